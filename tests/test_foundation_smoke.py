def test_login_and_me(client, city, auth):
    """A signed-in officer gets their own profile from /api/v1/me."""
    resp = auth.login(client, "officer")
    assert resp.status_code == 302
    me = client.get("/api/v1/me").get_json()
    assert me["username"] == "officer" and me["role"] == "officer"
