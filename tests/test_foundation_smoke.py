def test_login_and_me(client, city, auth):
    """A signed-in officer gets their own profile from /api/v1/me."""
    resp = auth.login(client, "officer")
    assert resp.status_code == 302
    me = client.get("/api/v1/me").get_json()
    assert me["username"] == "officer" and me["role"] == "officer"


def test_a22_pages_refuse_out_of_range_ids_and_far_weeks(app, city, auth):
    """A22: a page URL with an id past the INTEGER range is a 404 and a week outside 2000–2099 a 400, never a 500."""
    huge = 2**31
    for role, paths in {
        "officer": [f"/tasks/{huge}", f"/study/items/{huge}", f"/notices/{huge}", "/study/history?week=0001-W01"],
        "supervisor": [f"/tasks/review/{huge}", f"/reports/units/{huge}/officers.csv", "/reports/?week=9999-W52",
                       "/reports/units.xlsx?week=0001-W01"],
    }.items():
        client = app.test_client()
        auth.login(client, role)
        for path in paths:
            status = client.get(path).status_code
            assert status == (400 if "week=" in path else 404), (role, path, status)
