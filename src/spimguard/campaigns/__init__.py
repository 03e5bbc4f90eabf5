"""Campaigns across senders: near-duplicate clustering, confirmation, takedown, retraction.

The state (:class:`Campaigns`) is shared by the ``campaigns`` and ``decoys``
detectors and reached by operators through :func:`campaigns_for`::

    state = campaigns_for(engine.store)
    state.confirm("c-3f9a1b2c", "phishing kit, ticket 1234")
    for message_id in state.retract("c-3f9a1b2c"):
        ...  # delete the delivered copy

With a store on Redis (several workers) the state is a
:class:`ReplicatedCampaigns`: the same surface, kept identical in every worker
through a log of facts (:mod:`spimguard.campaigns.replicated`).

See :mod:`spimguard.campaigns.state` for how messages are recorded and what
the memory bounds mean, and :mod:`spimguard.campaigns.fingerprint` for what
counts as "the same text".
"""

from spimguard.campaigns.fingerprint import Fingerprint, Fingerprinter, HostPredicate
from spimguard.campaigns.index import BandIndex, DatasketchIndex, NearDuplicateIndex
from spimguard.campaigns.minhash import MinHasher, Signature
from spimguard.campaigns.model import Campaign, CampaignStatus, Match
from spimguard.campaigns.replicated import CampaignLog, CampaignState, ReplicatedCampaigns
from spimguard.campaigns.reporters import ReporterTrust
from spimguard.campaigns.settings import CampaignSettings
from spimguard.campaigns.shared import campaigns_for
from spimguard.campaigns.state import OWN_SIGNALS, Campaigns

__all__ = [
    "OWN_SIGNALS",
    "BandIndex",
    "Campaign",
    "CampaignLog",
    "CampaignSettings",
    "CampaignState",
    "CampaignStatus",
    "Campaigns",
    "DatasketchIndex",
    "Fingerprint",
    "Fingerprinter",
    "HostPredicate",
    "Match",
    "MinHasher",
    "NearDuplicateIndex",
    "ReplicatedCampaigns",
    "ReporterTrust",
    "Signature",
    "campaigns_for",
]
