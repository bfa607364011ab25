"""Every table of the hotline's database, registered in one place: importing this module declares
them all, and ``METADATA`` holds them for ``Database.create_all``."""
from __future__ import annotations

from ivr.accounts import models as accounts
from ivr.hotline import models as hotline

METADATA = (hotline.Base.metadata, accounts.Base.metadata)
