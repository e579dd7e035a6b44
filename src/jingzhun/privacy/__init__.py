"""Privacy: pseudonymous keys for identifiers, the PII vault, consent (enforced by activation)."""

from jingzhun.privacy.pseudonym import KEY_LENGTH, key_expr, key_for
from jingzhun.privacy.vault import COLUMN_KINDS, PERSONAL_EXTRAS, Pseudonymised, personal_columns, pseudonymise

__all__ = ["KEY_LENGTH", "key_for", "key_expr", "COLUMN_KINDS", "PERSONAL_EXTRAS", "Pseudonymised", "pseudonymise",
           "personal_columns"]
