from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.urls import MAX_URL, web_url

urlish = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https", "HTTPS", "ftp", "javascript", ""]),
    st.text(st.characters(codec=None, categories=None), max_size=15) | st.just("example.org"),
    st.text(st.characters(codec=None, categories=None), max_size=40),
)


@given(urlish | st.text(st.characters(codec=None, categories=None)))
def test_a_kept_link_is_a_plain_http_url_within_discords_limit(text: str) -> None:
    url = web_url(text)
    if url is None:
        return
    assert url.isascii() and url.isprintable() and " " not in url and len(url) <= MAX_URL
    assert url.lower().startswith(("http://", "https://"))
    assert web_url(url) == url  # stable: a stored link stays as it is
