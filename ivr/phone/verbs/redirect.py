"""<Redirect>: fetch another document (method POST by default; relative URLs resolve against
the current document). Nothing after it runs."""
from __future__ import annotations

from ivr.phone.outcomes import CONTINUE, Navigate
from ivr.phone.verbs import base


class Redirect:
    def run(self, ctx, element, doc, scope):
        url = base.text_of(element)
        if not url:
            ctx.warn("<Redirect> has no URL; skipped")
            return CONTINUE
        url = ctx.resolve(url, doc)
        method = base.method(ctx, element)
        ctx.emit("Redirect", url=url, method=method)
        return Navigate(url, method)
