"""Wire contracts shared by every vanthu service.

Only schemas live here: Pydantic models, subject names, stream and consumer
specifications, error codes. Nothing in this package opens a socket or a file.
"""

from vanthu_contracts.envelope import Envelope, new_event_id
from vanthu_contracts.errors import ErrorBody, ErrorCode

__all__ = ["Envelope", "ErrorBody", "ErrorCode", "new_event_id"]
