"""Campaigns: a definition as data, its plan (the dry run), sending what is due, and its status.

See docs/campaigns.md. The steps: :func:`load_campaign` reads and checks a YAML file;
:func:`plan_campaign` decides who gets which offer on which channel at what time and who is left out
(nothing is written); :func:`save_plan` records it; :func:`run_campaign` sends what is due through
:func:`jingzhun.activation.deliver`, which checks consent for every message as it goes.
"""

from jingzhun.activation.campaigns.definition import (
    Campaign, CampaignError, Caps, Conversion, Offer, Schedule, campaign_from_dict, load_campaign,
)
from jingzhun.activation.campaigns.planner import ADDRESS_KINDS, MAIN_STEP, Plan, fixed_time, plan_campaign
from jingzhun.activation.campaigns.runner import (
    DONE, PLANNED, RUNNING, RunReport, campaign_status, run_campaign, save_plan, saved_campaign,
)

__all__ = [
    "Campaign", "CampaignError", "Caps", "Conversion", "Offer", "Schedule", "campaign_from_dict", "load_campaign",
    "Plan", "plan_campaign", "fixed_time", "ADDRESS_KINDS", "MAIN_STEP",
    "save_plan", "saved_campaign", "run_campaign", "campaign_status", "RunReport", "PLANNED", "RUNNING", "DONE",
]
