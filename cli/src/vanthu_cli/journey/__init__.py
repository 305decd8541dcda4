"""The end-to-end journey of one document, driven through the platform's public APIs.

A ministry (a system of its own on the axis, played by this package) sends a document to the
demo province; the province's people register, route and handle it, draft a reply that is
reviewed, signed (the leader's token agent, then the agency seal in the HSM), numbered and sent
back; statuses flow both ways; analytics counts it all. `vanthu demo journey` runs it against a
running platform and prints each step; the end-to-end tests run it against one or two platforms.
"""

from vanthu_cli.journey.scenario import JourneyConfig, PlatformTarget, run_journey
from vanthu_cli.journey.steps import JourneyReport, StepResult

__all__ = ["JourneyConfig", "JourneyReport", "PlatformTarget", "StepResult", "run_journey"]
