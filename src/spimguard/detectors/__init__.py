"""Detectors, one per file. Registering a new one is one line in ``REGISTRY``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from spimguard.detectors.base import Detector, DetectorBase
from spimguard.detectors.burst import BurstDetector
from spimguard.detectors.campaigns import CampaignsDetector
from spimguard.detectors.content import ContentDetector
from spimguard.detectors.correlation import CorrelationDetector
from spimguard.detectors.decoys import DecoysDetector
from spimguard.detectors.dormant import DormantDetector
from spimguard.detectors.fanout import FanoutDetector
from spimguard.detectors.feedback import FeedbackDetector
from spimguard.detectors.links import LinksDetector
from spimguard.detectors.obfuscation import ObfuscationDetector
from spimguard.detectors.profile import ProfileDetector
from spimguard.detectors.ratelimit import RateLimitDetector
from spimguard.detectors.reputation import ReputationDetector
from spimguard.detectors.session import SessionDetector
from spimguard.detectors.stranger import StrangerDetector

__all__ = ["REGISTRY", "Detector", "DetectorBase", "DetectorFactory"]

DetectorFactory = Callable[[Mapping[str, Any]], Detector]

#: name -> factory taking the detector's settings table from the policy.
REGISTRY: dict[str, DetectorFactory] = {
    "content": ContentDetector.from_settings,
    "links": LinksDetector.from_settings,
    "obfuscation": ObfuscationDetector.from_settings,
    # behaviour: "profile" learns the state the others read, so it comes first
    "profile": ProfileDetector.from_settings,
    # metadata (no text needed): "session" writes the state the next three read
    "session": SessionDetector.from_settings,
    "dormant": DormantDetector.from_settings,
    "burst": BurstDetector.from_settings,
    "correlation": CorrelationDetector.from_settings,
    "feedback": FeedbackDetector.from_settings,
    "fanout": FanoutDetector.from_settings,
    "stranger": StrangerDetector.from_settings,
    "ratelimit": RateLimitDetector.from_settings,
    "reputation": ReputationDetector.from_settings,
    "campaigns": CampaignsDetector.from_settings,
    "decoys": DecoysDetector.from_settings,
}
