"""The hotline wing: what assembles this hotline from the engine (``ivr.engine``), the accounts
(``ivr.accounts``) and the database: the menu versions, call state, account flows, tables and
reports. The web layer (``ivr.web``) serves it; the local phone (``ivr.phone``) never imports it.
"""
