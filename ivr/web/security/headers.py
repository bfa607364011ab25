"""Security headers for the pages people open in a browser (the dashboard, the softphone): one
``after_request`` hook per blueprint, each with its own policy."""
from __future__ import annotations

# What every page may load: its own scripts, styles and images; no framing, no <base>, forms
# only to itself. A page adds what else it needs (the softphone: its audio and its API).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def protect(blueprint, *, csp: str = CSP, referrer: str, no_store: str = "all") -> None:
    """Add Content-Security-Policy ``csp``, nosniff and Referrer-Policy ``referrer`` to every
    answer of ``blueprint`` (unless a view set its own), and ``Cache-Control: no-store`` to
    ``no_store`` = "all" answers or to its "json" ones only."""
    if no_store not in ("all", "json"):
        raise ValueError(f"no_store must be 'all' or 'json', not {no_store!r}")

    @blueprint.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", referrer)
        if no_store == "all" or response.mimetype == "application/json":
            response.headers["Cache-Control"] = "no-store"
        return response
