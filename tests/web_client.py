"""What the web app's tests share: the test users' password, a signed-in client, a page's CSRF
token."""

import re

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"


def signed_in(app, user: str, lang: str = "en", password: str = PASSWORD) -> TestClient:
    """A client with ``user``'s session, the pages in ``lang``."""
    c = TestClient(app, base_url="https://testserver", cookies={"ocsea_lang": lang})
    r = c.post("/sign-in", data={"username": user, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
