"""What makes a report page one self-contained file: nothing it loads or links to lies
outside it, but for the "open in the playground" links to `whydl serve` on this machine
(links a reader follows, not resources the page loads)."""

from __future__ import annotations

import re

PLAYGROUND_LINK = r"""<a class="playground" href="http://127\.0\.0\.1:8000/#[^"]*">"""


def playground_links(html: str) -> list[str]:
    """Every local playground link's href, unescaped (`&amp;` back to `&`)."""
    return [
        re.search(r'href="([^"]*)"', a).group(1).replace("&amp;", "&")
        for a in re.findall(PLAYGROUND_LINK, html)
    ]


def external_references(html: str) -> list[str]:
    """What the page would fetch or link to outside itself, less the playground links."""
    html = re.sub(PLAYGROUND_LINK, "<a>", html)
    found = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:|//|ftp:)[^"'\s>]*""", html, re.I)
    found += re.findall(r"url\(\s*['\"]?\s*(?:https?:|//)[^)]*", html, re.I)
    found += [tag for tag in ("@import", "<link", "<script") if tag in html]
    if "<img" in html and 'src="data:' not in html:
        found.append("<img> of a file")
    return found
