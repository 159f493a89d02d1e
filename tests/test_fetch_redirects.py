"""Tests for newswatch.fetch.redirects: count, loops, schemes and the address policy."""

from __future__ import annotations

import itertools

import pytest
from pytest_httpx import HTTPXMock

from newswatch.models import FetchStatus
from support.fetching import FEED, PUBLIC, RSS, get

# --- redirects ----------------------------------------------------------------------------


def redirect(httpx_mock: HTTPXMock, source: str, target: str, code: int = 301) -> None:
    """Register a redirect response."""
    httpx_mock.add_response(url=source, status_code=code, headers={"Location": target})


@pytest.mark.parametrize("code", [301, 308])
def test_permanent_redirect_sets_permanent_url(httpx_mock: HTTPXMock, code: int) -> None:
    """A 301/308 chain reports the new URL as permanent."""
    redirect(httpx_mock, FEED, f"{PUBLIC}/moved.xml", code)
    redirect(httpx_mock, f"{PUBLIC}/moved.xml", f"{PUBLIC}/final.xml", 301)
    httpx_mock.add_response(url=f"{PUBLIC}/final.xml", content=RSS)
    result = get()
    assert result.status is FetchStatus.OK
    assert result.final_url == f"{PUBLIC}/final.xml"
    assert result.permanent_url == f"{PUBLIC}/final.xml"
    assert result.url == FEED


@pytest.mark.parametrize("code", [302, 303, 307])
def test_temporary_redirect_is_not_permanent(httpx_mock: HTTPXMock, code: int) -> None:
    """A chain with any 302/303/307 hop has no permanent_url."""
    redirect(httpx_mock, FEED, f"{PUBLIC}/a.xml", 301)
    redirect(httpx_mock, f"{PUBLIC}/a.xml", f"{PUBLIC}/b.xml", code)
    httpx_mock.add_response(url=f"{PUBLIC}/b.xml", content=RSS)
    result = get()
    assert (result.status, result.final_url) == (FetchStatus.OK, f"{PUBLIC}/b.xml")
    assert result.permanent_url is None


def test_relative_location_is_resolved(httpx_mock: HTTPXMock) -> None:
    """A relative Location is resolved against the redirecting URL."""
    redirect(httpx_mock, FEED, "/other/feed.xml", 302)
    httpx_mock.add_response(url=f"{PUBLIC}/other/feed.xml", content=RSS)
    assert get().final_url == f"{PUBLIC}/other/feed.xml"


def test_five_redirects_are_followed(httpx_mock: HTTPXMock) -> None:
    """Exactly five redirects are allowed."""
    urls = [f"{PUBLIC}/{i}" for i in range(6)]
    for source, target in itertools.pairwise(urls):
        redirect(httpx_mock, source, target)
    httpx_mock.add_response(url=urls[-1], content=RSS)
    assert get(urls[0]).status is FetchStatus.OK


def test_six_redirects_fail(httpx_mock: HTTPXMock) -> None:
    """A sixth redirect fails the fetch."""
    urls = [f"{PUBLIC}/{i}" for i in range(7)]
    for source, target in itertools.pairwise(urls):
        redirect(httpx_mock, source, target)
    result = get(urls[0])
    assert (result.status, result.error) == (FetchStatus.FAILED, "more than 5 redirects")


def test_redirect_loop_fails(httpx_mock: HTTPXMock) -> None:
    """A redirect back to a URL already visited fails as a loop."""
    redirect(httpx_mock, FEED, f"{PUBLIC}/b.xml", 302)
    redirect(httpx_mock, f"{PUBLIC}/b.xml", FEED, 302)
    result = get()
    assert (result.status, result.error) == (FetchStatus.FAILED, "redirect loop")


def test_redirect_without_location_fails(httpx_mock: HTTPXMock) -> None:
    """A 301 without Location is a failure, not a crash."""
    httpx_mock.add_response(url=FEED, status_code=301)
    result = get()
    assert (result.status, result.http_status) == (FetchStatus.FAILED, 301)
    assert result.error == "HTTP 301 without a Location"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:8080/admin",
        "http://10.1.2.3/",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://localhost/x",
    ],
)
def test_redirect_from_public_to_private_refused(httpx_mock: HTTPXMock, target: str) -> None:
    """A public feed cannot redirect to a loopback or private address."""
    redirect(httpx_mock, FEED, target, 302)
    result = get()
    assert result.status is FetchStatus.FAILED
    assert result.error == "redirect to a non-public address refused"
    assert len(httpx_mock.get_requests()) == 1


def test_redirect_within_private_addresses_allowed(httpx_mock: HTTPXMock) -> None:
    """A feed on a private address may redirect to another private address."""
    redirect(httpx_mock, "http://10.0.0.5/feed", "http://127.0.0.1:8081/feed", 302)
    httpx_mock.add_response(url="http://127.0.0.1:8081/feed", content=RSS)
    assert get("http://10.0.0.5/feed").status is FetchStatus.OK


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.1.1]/",
    ],
)
def test_redirect_to_link_local_refused_even_from_a_private_address(
    httpx_mock: HTTPXMock, target: str
) -> None:
    """Link-local targets (cloud metadata) are refused whatever the feed's own address."""
    redirect(httpx_mock, "http://127.0.0.1:8081/feed", target, 302)
    result = get("http://127.0.0.1:8081/feed")
    assert result.error == "redirect to a link-local address refused"
    assert len(httpx_mock.get_requests()) == 1


def test_private_to_public_to_private_refused(httpx_mock: HTTPXMock) -> None:
    """Once a chain has passed a public address it cannot go back to a private one."""
    redirect(httpx_mock, "http://10.0.0.5/feed", FEED, 302)
    redirect(httpx_mock, FEED, "http://10.0.0.6/feed", 302)
    result = get("http://10.0.0.5/feed")
    assert result.error == "redirect to a non-public address refused"


def test_redirect_to_non_http_refused(httpx_mock: HTTPXMock) -> None:
    """Only http and https redirect targets are followed."""
    redirect(httpx_mock, FEED, "file:///etc/passwd", 302)
    result = get()
    assert (result.status, result.error) == (
        FetchStatus.FAILED,
        "redirect to a non-HTTP URL refused",
    )
