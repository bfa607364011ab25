"""Personal account services (issue 3): ID numbers, accounts, login, balances, spending,
password change and temporary loss reports.

The call flow uses :class:`AccountService` and keeps only integer account ids in call state.
"""
from ivr.accounts.idnumber import IdCheck, check_id, mask_id
from ivr.accounts.service import (AccountService, Balances, LoginResult, LossReportResult,
                                  PasswordChangeResult, Spending)

__all__ = ["AccountService", "Balances", "IdCheck", "LoginResult", "LossReportResult",
           "PasswordChangeResult", "Spending", "check_id", "mask_id"]
