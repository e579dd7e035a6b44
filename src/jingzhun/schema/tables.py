"""The canonical data model, version by version. The one place a table or column name is spelled.

Identifier columns (``pii=True``) never hold a raw e-mail, phone or account id: they hold the keyed
hash that :mod:`jingzhun.privacy` computes from the normalised value. The raw value, where a source
gives one, lives only in ``pii_vault``.
"""

from __future__ import annotations

from jingzhun.schema.model import Column as C
from jingzhun.schema.model import Table

__all__ = ["TABLES", "IDENTIFIER_KINDS", "CUSTOMER_IDENTIFIERS", "table", "SOURCE_TABLES", "RESPONSE_EVENTS_SOURCE"]

TS = "timestamp('UTC')"

# `events.source` of the opens and clicks that campaign responses write back as events
# (jingzhun.measure.learn): models that read `responses` themselves leave these out
RESPONSE_EVENTS_SOURCE = "campaign-responses"

# The kinds of identifier the identity graph knows. The column holding an identifier of kind K is
# named K wherever it appears (customers, orders, events, consents).
IDENTIFIER_KINDS: tuple[str, ...] = (
    "user_id",        # the business's account or customer number
    "anonymous_id",   # a cookie or app-install id from tracking
    "email",
    "phone",
    "device_id",
    "wechat_openid",
    "crm_id",
    "loyalty_card",
)
CUSTOMER_IDENTIFIERS = ("user_id", "email", "phone", "device_id", "wechat_openid", "crm_id", "loyalty_card")


def _ids(kinds, doc_suffix=""):
    return tuple(C(k, "string", f"pseudonymous key of the {k.replace('_', ' ')}{doc_suffix}", pii=True) for k in kinds)


_LOAD = (
    C("source", "string", "name of the source mapping that loaded the row", nullable=False),
    C("load_id", "string", "the load that wrote the row (see `loads`)", nullable=False),
    C("quality_flags", "string", "comma-separated quality flags kept on a loaded row ('' when none)", nullable=False),
)

EVENTS = Table(
    "events", "source",
    "Behaviour as Segment-spec messages: track, identify, page, screen, alias, group.",
    (
        C("message_id", "string", "unique id of the message; the dedup key", nullable=False),
        C("type", "string", "track, identify, page, screen, alias or group", nullable=False),
        C("event", "string", "event name for track (e.g. 'Product Viewed'); page or screen name otherwise"),
        C("user_id", "string", "pseudonymous key of the user id", pii=True),
        C("anonymous_id", "string", "pseudonymous key of the anonymous id", pii=True),
        C("previous_id", "string", "alias messages: pseudonymous key of the previous id, keyed as an "
          "anonymous id (Segment's usual case: the anonymous id a visitor had before signing up)", pii=True),
        C("email", "string", "pseudonymous key of an e-mail in identify traits", pii=True),
        C("phone", "string", "pseudonymous key of a phone in identify traits", pii=True),
        C("device_id", "string", "pseudonymous key of context.device.id", pii=True),
        C("timestamp", TS, "when the event happened (UTC)", nullable=False),
        C("received_at", TS, "when jingzhun received it (UTC)"),
        C("channel", "string", "web, app, store, wechat, email, sms, ..."),
        C("properties", "string", "JSON object of event properties (personal fields removed)"),
        C("context", "string", "JSON object: ip, user agent, locale, location, campaign/UTM, device"),
    ) + _LOAD,
    key=("message_id",),
)

CUSTOMERS = Table(
    "customers", "source",
    "Customer records as sources give them, with their identifiers and traits (one row per source record).",
    (
        C("record_id", "string", "the record's id within its source (pseudonymised)", nullable=False, pii=True),
        *_ids(CUSTOMER_IDENTIFIERS),
        C("name_key", "string", "pseudonymous key of the normalised full name (for matching records)", pii=True),
        C("gender", "string", "F, M or another value the source uses; null when unknown"),
        C("birth_date", "date", "date of birth"),
        C("city", "string", "city"),
        C("region", "string", "region, province or state"),
        C("country", "string", "ISO 3166 alpha-2 country code where known, else the source's name"),
        C("postcode", "string", "postal code or its prefix"),
        C("latitude", "float64", "home latitude (WGS84) where known"),
        C("longitude", "float64", "home longitude (WGS84) where known"),
        C("education", "string", "education level"),
        C("occupation", "string", "occupation"),
        C("marital_status", "string", "marital status"),
        C("signed_up_at", TS, "when the person became a customer (UTC)"),
        C("traits", "string", "JSON object of other non-personal traits"),
    ) + _LOAD,
    key=("source", "record_id"),
)

ORDERS = Table(
    "orders", "source",
    "Purchases and returns, one row per order (amounts are the sum of the order's lines).",
    (
        C("order_id", "string", "order or invoice number", nullable=False),
        *_ids(("user_id", "crm_id", "loyalty_card", "email", "phone", "wechat_openid", "anonymous_id"), " of the buyer"),
        C("ordered_at", TS, "when the order was placed (UTC)", nullable=False),
        C("status", "string", "completed, cancelled, returned, pending, ...", nullable=False),
        C("is_return", "boolean", "true for a return or cancellation (a credit note), not a purchase", nullable=False),
        C("channel", "string", "web, app, store, wechat, marketplace, ..."),
        C("store_id", "string", "store where the order was placed or collected"),
        C("country", "string", "country of the order"),
        C("currency", "string", "ISO 4217 currency of the amounts", nullable=False),
        C("amount", "float64", "order total: sum of line amounts (negative for returns)", nullable=False),
        C("discount", "float64", "total discount granted on the order"),
        C("coupon_code", "string", "coupon or voucher redeemed"),
        C("n_lines", "int64", "number of lines", nullable=False),
    ) + _LOAD,
    key=("source", "order_id"),
)

ORDER_LINES = Table(
    "order_lines", "source",
    "Order lines: what was bought, how many, at what price.",
    (
        C("order_id", "string", "the order (see `orders`)", nullable=False),
        C("line_no", "int64", "line number within the order, from 1", nullable=False),
        C("product_id", "string", "product or stock code (see `products`)"),
        C("quantity", "float64", "units; negative on return lines", nullable=False),
        C("unit_price", "float64", "price per unit in the order's currency", nullable=False),
        C("discount", "float64", "discount on the line"),
        C("amount", "float64", "quantity x unit price less discount", nullable=False),
        C("is_return", "boolean", "true on return and cancellation lines", nullable=False),
    ) + _LOAD,
    key=("source", "order_id", "line_no"),
)

PRODUCTS = Table(
    "products", "source",
    "The product catalogue.",
    (
        C("product_id", "string", "product or stock code", nullable=False),
        C("name", "string", "product name"),
        C("category_path", "string", "category path, levels joined by ' > '"),
        C("category", "string", "top-level category"),
        C("brand", "string", "brand"),
        C("price", "float64", "list price"),
        C("currency", "string", "currency of the price"),
        C("is_consumable", "boolean", "bought again when used up (repurchase cycle applies)"),
        C("repurchase_days", "float64", "typical days between repurchases of a consumable"),
        C("in_stock", "boolean", "available to sell"),
        C("attributes", "string", "JSON object of other attributes"),
    ) + _LOAD,
    key=("source", "product_id"),
)

STORES = Table(
    "stores", "source",
    "Physical stores with their coordinates.",
    (
        C("store_id", "string", "store code", nullable=False),
        C("name", "string", "store name"),
        C("city", "string", "city"),
        C("region", "string", "region"),
        C("country", "string", "country"),
        C("latitude", "float64", "latitude (WGS84)"),
        C("longitude", "float64", "longitude (WGS84)"),
        C("opened_at", "date", "opening date"),
    ) + _LOAD,
    key=("source", "store_id"),
)

CONSENTS = Table(
    "consents", "source",
    "Consent and preference records: who agreed (or not) to what, on which channel, when.",
    (
        *_ids(("user_id", "email", "phone", "wechat_openid", "device_id"), " the consent belongs to"),
        C("channel", "string", "email, sms, push, wechat, direct_mail, phone, all", nullable=False),
        C("purpose", "string", "marketing, profiling, ...", nullable=False),
        C("status", "string", "granted or denied (a withdrawal is a later denied record)", nullable=False),
        C("recorded_at", TS, "when the consent was given or withdrawn (UTC)", nullable=False),
    ) + _LOAD,
    key=("source", "user_id", "email", "phone", "channel", "purpose", "recorded_at"),
)

REVIEWS = Table(
    "reviews", "source",
    "Product and order reviews with their text (the text may mention people; treat it as personal data).",
    (
        C("review_id", "string", "review id", nullable=False),
        C("user_id", "string", "pseudonymous key of the reviewer's user id", pii=True),
        C("crm_id", "string", "pseudonymous key of the reviewer's CRM id", pii=True),
        C("order_id", "string", "the order reviewed, where known"),
        C("product_id", "string", "the product reviewed, where known"),
        C("rating", "float64", "rating on the source's scale (e.g. 1 to 5)"),
        C("title", "string", "review title"),
        C("text", "string", "review text"),
        C("language", "string", "language code where known (zh, en, pt, ...)"),
        C("created_at", TS, "when the review was written (UTC)", nullable=False),
    ) + _LOAD,
    key=("source", "review_id"),
)

REFERRALS = Table(
    "referrals", "source",
    "Who referred whom: the edges of the referral graph.",
    (
        C("referrer_user_id", "string", "pseudonymous key of the referrer's user id", nullable=False, pii=True),
        C("referred_user_id", "string", "pseudonymous key of the referred person's user id", nullable=False, pii=True),
        C("referred_at", TS, "when (UTC)", nullable=False),
    ) + _LOAD,
    key=("source", "referrer_user_id", "referred_user_id"),
)

PII_VAULT = Table(
    "pii_vault", "system",
    "The only table with raw personal data: each pseudonymous key with the normalised value behind it.",
    (
        C("key", "string", "the pseudonymous key used in every other table", nullable=False),
        C("kind", "string", "identifier kind (email, phone, ...) or name / address", nullable=False),
        C("value", "string", "the normalised raw value", nullable=False),
        C("first_seen_at", TS, "when jingzhun first stored it", nullable=False),
        C("source", "string", "the source that first brought it", nullable=False),
    ),
    key=("kind", "key"),
)

QUARANTINE = Table(
    "quarantine", "system",
    "Rows a load set aside, each with the reason; nothing is dropped silently.",
    (
        C("load_id", "string", "the load", nullable=False),
        C("source", "string", "source mapping name", nullable=False),
        C("file", "string", "file the row came from", nullable=False),
        C("table_name", "string", "canonical table it was meant for", nullable=False),
        C("row_number", "int64", "row in the file (1-based; the header is row 1 in delimited files)"),
        C("field", "string", "the field at fault, where one is"),
        C("rule", "string", "the quality rule that rejected it", nullable=False),
        C("reason", "string", "what is wrong, in words", nullable=False),
        C("raw", "string", "the raw row as JSON (personal fields masked)"),
        C("quarantined_at", TS, "when", nullable=False),
    ),
)

LOADS = Table(
    "loads", "system",
    "One row per file loaded into one table: the ledger that makes loads idempotent.",
    (
        C("load_id", "string", "id of the load", nullable=False),
        C("source", "string", "source mapping name", nullable=False),
        C("file", "string", "path of the file as given", nullable=False),
        C("fingerprint", "string", "SHA-256 of the file's bytes and the mapping's meaning", nullable=False),
        C("table_name", "string", "canonical table", nullable=False),
        C("rows_read", "int64", "rows read from the file", nullable=False),
        C("rows_loaded", "int64", "rows written to the table", nullable=False),
        C("rows_quarantined", "int64", "rows sent to quarantine", nullable=False),
        C("rows_skipped", "int64", "rows already present (same natural key) and not written again", nullable=False),
        C("started_at", TS, "start", nullable=False),
        C("finished_at", TS, "end", nullable=False),
        C("report", "string", "the quality report of the load as JSON"),
    ),
    key=("fingerprint", "table_name"),
)

RUNS = Table(
    "runs", "system",
    "Every pipeline step run: what ran, on which data, how long, how many rows.",
    (
        C("run_id", "string", "id of the run (a build has one run_id for all its steps)", nullable=False),
        C("step", "string", "ingest, quality, identity, ...", nullable=False),
        C("status", "string", "ok or failed", nullable=False),
        C("started_at", TS, "start", nullable=False),
        C("finished_at", TS, "end", nullable=False),
        C("data_version", "string", "fingerprint of the loads the step read", nullable=False),
        C("rows_in", "int64", "rows read"),
        C("rows_out", "int64", "rows written"),
        C("detail", "string", "JSON with step-specific figures or the error"),
    ),
)

IDENTITY_MAP = Table(
    "identity_map", "derived",
    "Which profile every identifier belongs to.",
    (
        C("kind", "string", "identifier kind", nullable=False),
        C("key", "string", "pseudonymous key", nullable=False),
        C("profile_id", "string", "the person", nullable=False),
        C("is_shared", "boolean", "an over-shared identifier: kept on its own, merges nobody", nullable=False),
    ),
    key=("kind", "key"),
)

IDENTITY_EDGES = Table(
    "identity_edges", "derived",
    "Why identifiers were joined: one row per pair of identifiers seen together, with where.",
    (
        C("kind_a", "string", "kind of the first identifier", nullable=False),
        C("key_a", "string", "first identifier", nullable=False),
        C("kind_b", "string", "kind of the second identifier", nullable=False),
        C("key_b", "string", "second identifier", nullable=False),
        C("evidence", "string", "table and record that showed them together (e.g. customers:crm/123)", nullable=False),
        C("rule", "string", "deterministic, or the name of the matching rule", nullable=False),
        C("used", "boolean", "false when a guard against over-merging set the edge aside", nullable=False),
    ),
)

PROFILES = Table(
    "profiles", "derived",
    "One row per person; later layers widen it with features.",
    (
        C("profile_id", "string", "the person", nullable=False),
        C("n_identifiers", "int64", "identifiers joined into this profile", nullable=False),
        C("n_records", "int64", "customer records joined into this profile", nullable=False),
        C("first_seen_at", TS, "earliest order or event"),
        C("last_seen_at", TS, "latest order or event"),
    ),
    key=("profile_id",),
)

TAGS = Table("tags", "derived", "Tags each profile carries now (the latest tag build).", (
    C("profile_id", "string", "the person", nullable=False),
    C("tag", "string", "tag name (see `jingzhun tags list`)", nullable=False),
    C("value", "string", "the band or level for banded and score tags; null for yes/no tags"),
    C("reason", "string", "why the profile has the tag, in words a marketer can show"),
    C("as_of", TS, "the moment the tag describes: only data before it was used", nullable=False),
    C("computed_at", TS, "when the tag build ran", nullable=False),
), key=("profile_id", "tag"))

TAG_HISTORY = Table("tag_history", "derived",
                    "Every time a profile gained or lost a tag, or its value changed, between two tag builds.", (
    C("profile_id", "string", "the person", nullable=False),
    C("tag", "string", "tag name", nullable=False),
    C("change", "string", "gained, lost or changed", nullable=False),
    C("value_before", "string", "value before the change (null when gained or for yes/no tags)"),
    C("value_after", "string", "value after the change (null when lost or for yes/no tags)"),
    C("reason", "string", "why, for gained and changed: the tag's reason at the time"),
    C("as_of", TS, "as_of of the build that saw the change", nullable=False),
    C("previous_as_of", TS, "as_of of the build before it (null for the first build)"),
    C("computed_at", TS, "when the build ran", nullable=False),
))

SCORES = Table("scores", "derived", "Model scores per profile (the latest of each score).", (
    C("profile_id", "string", "the person", nullable=False),
    C("score", "string", "score name, e.g. clv_12m, p_alive", nullable=False),
    C("value", "float64", "the score", nullable=False),
    C("model_id", "string", "model that produced it (see `models`)", nullable=False),
    C("computed_at", TS, "when", nullable=False),
    C("reason", "string", "why, in words a marketer can show, for scores that explain themselves (churn_risk: "
      "the features that raise the risk most)"),
), key=("profile_id", "score"))

MODELS = Table("models", "derived", "The model registry: every fitted model, what it was fitted on, and how well it did.", (
    C("model_id", "string", "id", nullable=False),
    C("name", "string", "registry name given by the user, e.g. clv", nullable=False),
    C("kind", "string", "model class, e.g. BetaGeoModel, PropensityModel", nullable=False),
    C("params", "string", "fitted parameters, JSON", nullable=False),
    C("data_fingerprint", "string", "fingerprint of the training data (load ids and row counts)", nullable=False),
    C("code_version", "string", "jingzhun version (and git commit where known)", nullable=False),
    C("metrics", "string", "evaluation metrics, JSON"),
    C("as_of", TS, "cut-off of the training data"),
    C("path", "string", "where the model file is stored"),
    C("trained_at", TS, "when", nullable=False),
), key=("model_id",))

SEGMENTS = Table("segments", "derived", "Saved audience definitions.", (
    C("segment_id", "string", "id", nullable=False),
    C("name", "string", "name", nullable=False),
    C("definition", "string", "audience expression (or, for built-in kinds, the rule that assigns members)",
      nullable=False),
    C("kind", "string", "audience, rfm, lifecycle or cluster", nullable=False),
    C("description", "string", "what the segment is for"),
    C("fingerprint", "string", "fingerprint of the definition's meaning", nullable=False),
    C("created_at", TS, "when", nullable=False),
    C("updated_at", TS, "when the definition last changed"),
), key=("segment_id",))

SEGMENT_MEMBERS = Table("segment_members", "derived", "Who is in a segment at each snapshot.", (
    C("segment_id", "string", "segment", nullable=False),
    C("profile_id", "string", "member", nullable=False),
    C("snapshot_at", TS, "snapshot time", nullable=False),
), key=("segment_id", "snapshot_at", "profile_id"))

SEGMENT_SNAPSHOTS = Table("segment_snapshots", "derived", "One row per snapshot of a segment: when, as of what, how big.", (
    C("segment_id", "string", "segment", nullable=False),
    C("snapshot_at", TS, "snapshot time (the key of its members in segment_members)", nullable=False),
    C("as_of", TS, "the moment the audience was evaluated at", nullable=False),
    C("fingerprint", "string", "fingerprint of the definition used", nullable=False),
    C("size", "int64", "members", nullable=False),
    C("entered", "int64", "members not in the previous snapshot (null for the first)"),
    C("exited", "int64", "members of the previous snapshot no longer in (null for the first)"),
), key=("segment_id", "snapshot_at"))

RECOMMENDATIONS = Table("recommendations", "derived", "Products recommended to profiles.", (
    C("profile_id", "string", "the person", nullable=False),
    C("product_id", "string", "product", nullable=False),
    C("rank", "int64", "1 = best", nullable=False),
    C("score", "float64", "model score", nullable=False),
    C("reason", "string", "reason a marketer can show"),
    C("source", "string", "which recommender proposed it: als, item_knn, popularity, content, hybrid, ..."),
    C("model_id", "string", "model", nullable=False),
    C("computed_at", TS, "when", nullable=False),
))

RULES = Table("rules", "derived", "Association rules between products or categories (the latest mining of each level).", (
    C("antecedent", "string", "items on the left, JSON array (sorted)", nullable=False),
    C("consequent", "string", "items on the right, JSON array (sorted)", nullable=False),
    C("level", "string", "product or category", nullable=False),
    C("support", "float64", "share of baskets holding both sides", nullable=False),
    C("confidence", "float64", "support / antecedent support", nullable=False),
    C("lift", "float64", "confidence / consequent support", nullable=False),
    C("leverage", "float64", "support - antecedent support x consequent support"),
    C("conviction", "float64", "(1 - consequent support) / (1 - confidence); null when confidence is 1"),
    C("antecedent_support", "float64", "share of baskets holding the left side"),
    C("consequent_support", "float64", "share of baskets holding the right side"),
    C("n_baskets", "int64", "baskets mined"),
    C("mined_at", TS, "when the rules were mined"),
))

CAMPAIGNS = Table("campaigns", "derived", "Campaign definitions.", (
    C("campaign_id", "string", "id", nullable=False),
    C("name", "string", "name", nullable=False),
    C("definition", "string", "the campaign as JSON", nullable=False),
    C("status", "string", "draft, planned, running, done", nullable=False),
    C("created_at", TS, "when", nullable=False),
), key=("campaign_id",))

ASSIGNMENTS = Table("assignments", "derived", "Who is in which arm of which campaign.", (
    C("campaign_id", "string", "campaign", nullable=False),
    C("profile_id", "string", "person", nullable=False),
    C("arm", "string", "arm or 'control'", nullable=False),
    C("assigned_at", TS, "when", nullable=False),
), key=("campaign_id", "profile_id"))

DELIVERIES = Table("deliveries", "derived", "Every message sent or withheld.", (
    C("delivery_id", "string", "id", nullable=False),
    C("campaign_id", "string", "campaign", nullable=False),
    C("profile_id", "string", "person", nullable=False),
    C("arm", "string", "arm", nullable=False),
    C("channel", "string", "channel", nullable=False),
    C("scheduled_at", TS, "planned send time"),
    C("sent_at", TS, "actual send time"),
    C("status", "string", "sent, failed, sending, held_out, suppressed_no_consent, suppressed_frequency_cap, "
      "suppressed_no_address (docs/delivery.md)", nullable=False),
    C("detail", "string", "why a message failed or was withheld, in words; for a file export, the file"),
), key=("delivery_id",))

RESPONSES = Table("responses", "derived", "Responses to deliveries: opens, clicks, conversions, visits.", (
    C("delivery_id", "string", "delivery", nullable=False),
    C("profile_id", "string", "person", nullable=False),
    C("response", "string", "open, click, unsubscribe, conversion, visit, redemption", nullable=False),
    C("value", "float64", "revenue for conversions"),
    C("responded_at", TS, "when", nullable=False),
    C("detail", "string", "what responded: the order of a conversion, the coupon code redeemed, a survey's "
      "answers as JSON, the link clicked"),
))

CAMPAIGN_MESSAGES = Table("campaign_messages", "derived",
                          "A campaign's plan: every message it means to send, to whom, on which channel, when.", (
    C("campaign_id", "string", "campaign", nullable=False),
    C("step", "string", "the campaign step (a trigger's firing makes its own step)", nullable=False),
    C("delivery_id", "string", "the id its delivery will carry", nullable=False),
    C("profile_id", "string", "person", nullable=False),
    C("arm", "string", "arm or 'control'", nullable=False),
    C("channel", "string", "channel chosen for the person", nullable=False),
    C("template", "string", "message template", nullable=False),
    C("offer", "string", "offer given, JSON"),
    C("scheduled_at", TS, "when it is due (UTC): the person's best send time outside quiet hours",
      nullable=False),
    C("rank_value", "float64", "the value the audience was ranked by (CLV, propensity, uplift), if any"),
    C("planned_at", TS, "when the plan was made", nullable=False),
), key=("delivery_id",))

TRIGGER_FIRINGS = Table("trigger_firings", "derived",
                        "Each time a trigger fired for a person, and why (cooldowns and dedup read it).", (
    C("trigger_id", "string", "trigger", nullable=False),
    C("campaign_id", "string", "campaign the trigger starts a step of", nullable=False),
    C("profile_id", "string", "person", nullable=False),
    C("event_at", TS, "when the thing that fired it happened", nullable=False),
    C("fired_at", TS, "when the trigger was evaluated and fired", nullable=False),
    C("dedup_key", "string", "one firing per key: trigger, person and the occasion", nullable=False),
    C("reason", "string", "what happened, in words"),
), key=("dedup_key",))

PROFILE_FEATURES = Table(
    "profile_features", "derived",
    "Features per profile computed as of a moment (one row per person; docs/features.md defines each). "
    "Rebuilt in full or refreshed for the profiles that new data or identity changes touched.",
    (
        C("profile_id", "string", "the person", nullable=False),
        C("as_of", TS, "the moment the features describe: only data before it is used", nullable=False),
        C("n_identifiers", "int64", "identifiers of the profile in identity_map (not shared)", nullable=False),
        C("n_records", "int64", "customer records attached to the profile", nullable=False),
        C("first_purchase_at", TS, "first purchase order (UTC)"),
        C("last_purchase_at", TS, "last purchase order before as_of (UTC)"),
        C("recency_days", "int64", "whole days from the last purchase to as_of"),
        C("frequency", "int64", "purchase orders (returns excluded)", nullable=False),
        C("purchase_days", "int64", "distinct local days with a purchase", nullable=False),
        C("monetary_total", "float64", "sum of purchase order amounts (0 without purchases)", nullable=False),
        C("monetary_mean", "float64", "mean spend per purchase day"),
        C("avg_order_value", "float64", "monetary_total / frequency"),
        C("customer_since", TS, "earliest of the first purchase and the records' signed_up_at"),
        C("tenure_days", "int64", "whole days from customer_since to as_of"),
        C("interpurchase_mean_days", "float64", "mean days between consecutive purchase days"),
        C("interpurchase_sd_days", "float64", "sample standard deviation of those gaps (2+ gaps)"),
        C("returns", "int64", "return or cancellation orders", nullable=False),
        C("return_rate", "float64", "returns / purchase orders"),
        C("returned_amount", "float64", "amount of returns, positive (0 without returns)", nullable=False),
        C("discount_share", "float64", "share of purchase orders with a discount or a coupon"),
        C("coupon_share", "float64", "share of purchase orders with a coupon"),
        C("mean_discount_rate", "float64", "mean of discount / (amount + discount) over purchase orders"),
        C("price_sensitivity", "float64", "0 to 1, how much the person's buying leans on discounts and coupons "
          "(docs/features.md gives the formula); null without purchases"),
        C("mean_lines", "float64", "mean lines per purchase order"),
        C("mean_units", "float64", "mean units per purchase order (from order lines)"),
        C("repurchase_cycle_days", "float64", "mean days between purchases of the same consumable category"),
        C("next_repurchase_at", TS, "when the next consumable repurchase is expected (earliest over categories)"),
        C("repurchase_due_days", "float64", "days from as_of to next_repurchase_at (negative: overdue)"),
        C("top_category", "string", "category with the largest share of spend (ties: smallest name)"),
        C("top_category_share", "float64", "its share of categorised spend"),
        C("n_categories", "int64", "categories bought", nullable=False),
        C("category_shares", "string", "every category's share of spend, 'name:0.523;...' sorted by name"),
        C("top_brand", "string", "brand with the largest share of spend (ties: smallest name)"),
        C("top_brand_share", "float64", "its share of branded spend"),
        C("n_brands", "int64", "brands bought", nullable=False),
        *(C(f"share_{c}", "float64", f"share of purchase orders placed on channel {c}") 
          for c in ("web", "app", "store", "wechat", "marketplace")),
        *(C(f"hour_{h:02d}", "int64", f"purchases and engagement events in local hour {h}", nullable=False)
          for h in range(24)),
        *(C(f"weekday_{d}", "int64", f"purchases and engagement events on local weekday {d} (Monday = 0)",
            nullable=False) for d in range(7)),
        C("peak_hour", "int64", "local hour people are most active at: the top of the clock-smoothed histogram, "
          "message responses weighing 4 and purchases 1 (docs/features.md; ties: earliest hour)"),
        C("peak_weekday", "int64", "local weekday with most activity, Monday = 0 (ties: earliest day)"),
        C("n_events", "int64", "engagement events (track, page, screen; bots excluded)", nullable=False),
        C("events_90d", "int64", "engagement events in the 90 days before as_of", nullable=False),
        C("email_opened_90d", "int64", "e-mail opens in the 90 days before as_of", nullable=False),
        C("email_clicked_90d", "int64", "e-mail link clicks in the 90 days before as_of", nullable=False),
        C("push_opened_90d", "int64", "push notifications opened in the 90 days before as_of", nullable=False),
        C("sms_clicked_90d", "int64", "SMS link clicks in the 90 days before as_of", nullable=False),
        C("home_latitude", "float64", "home latitude: mean over the records that give one"),
        C("home_longitude", "float64", "home longitude: mean over the records that give one"),
        C("nearest_store_id", "string", "store nearest to home (great-circle distance)"),
        C("nearest_store_km", "float64", "its distance from home in km"),
        C("top_store_id", "string", "store with most purchase orders (ties: smallest id)"),
        C("top_store_km", "float64", "its distance from home in km"),
        C("gender", "string", "most frequent gender on the records (ties: smallest value)"),
        C("birth_date", "date", "most frequent birth date on the records"),
        C("age", "int64", "age in whole years at as_of"),
        C("age_band", "string", "<18, 18-24, 25-34, 35-44, 45-54, 55-64 or 65+"),
        C("city", "string", "most frequent city on the records"),
        C("region", "string", "most frequent region on the records"),
        C("constellation", "string", "Western zodiac sign of the birthday (aries ... pisces)"),
        C("education", "string", "most frequent education on the records"),
        C("occupation", "string", "most frequent occupation on the records"),
        C("marital_status", "string", "most frequent marital status on the records"),
    ),
    key=("profile_id",),
)

_ALL = (
    EVENTS, CUSTOMERS, ORDERS, ORDER_LINES, PRODUCTS, STORES, CONSENTS, REVIEWS, REFERRALS,
    PII_VAULT, QUARANTINE, LOADS, RUNS,
    IDENTITY_MAP, IDENTITY_EDGES, PROFILES, TAGS, TAG_HISTORY, SCORES, MODELS, SEGMENTS, SEGMENT_MEMBERS,
    SEGMENT_SNAPSHOTS,
    RECOMMENDATIONS, RULES, CAMPAIGNS, ASSIGNMENTS, DELIVERIES, RESPONSES, CAMPAIGN_MESSAGES, TRIGGER_FIRINGS,
    PROFILE_FEATURES,
)
TABLES: dict[str, Table] = {t.name: t for t in _ALL}
SOURCE_TABLES = tuple(t.name for t in _ALL if t.kind == "source")


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"no canonical table {name!r}; known: {', '.join(TABLES)}") from None
