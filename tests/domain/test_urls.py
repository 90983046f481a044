from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.urls import MAX_URL, web_url
from bot.sandbox.urls import BUTTON, url_problems

# Hosts and paths a feed could send that arbitrary text seldom spells: ports (none, zero, too big),
# credentials, IPv6 brackets (closed or not), IDNs, full-width letters, trailing dots, underscores.
HOSTS = [
    "example.org", "EXAMPLE.org", "example.org:8080", "example.org:0", "example.org:99999",
    "example.org:", "example.org:x", "user:pw@example.org", "@example.org", "[::1]", "[::1",
    "127.0.0.1", "xn--bcher-kva.example", "bücher.de", "ｅｘａｍｐｌｅ.org", "-bad-.org", "a..b",
    "example.org.", "ex_ample.org", "example.org\\@evil.org",
]  # fmt: skip
PATHS = ["a b", "%", "%zz", "é", "?q=1#frag", "\\", "\u200b", "\x7f", "a\u202eb", "ｐａｔｈ", "#"]
urlish = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https", "HTTPS", "ftp", "javascript", ""]),
    st.text(st.characters(codec=None, categories=None), max_size=15) | st.sampled_from(HOSTS),
    st.text(st.characters(codec=None, categories=None), max_size=40)
    | st.lists(st.sampled_from(PATHS) | st.text(max_size=4), max_size=6).map("".join),
)


@given(urlish | st.text(st.characters(codec=None, categories=None)))
def test_a_kept_link_is_a_plain_http_url_within_discords_limit(text: str) -> None:
    url = web_url(text)
    if url is None:
        return
    assert url.isascii() and url.isprintable() and " " not in url and len(url) <= MAX_URL
    assert url.lower().startswith(("http://", "https://"))
    assert web_url(url) == url  # stable: a stored link stays as it is
    # Discord (the emulator, as strict) takes it in a link button, its tightest URL field.
    assert url_problems(url, "url", BUTTON, limit=MAX_URL) == []
