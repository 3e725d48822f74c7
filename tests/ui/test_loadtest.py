"""The load script's arithmetic (the run itself needs a live site: see the README, "Load test")."""
from webapp import loadtest


def test_it_reads_server_timing_and_reports_percentiles():
    samples = [loadtest.Sample(client_ms=float(i), status=200, server={"app": i / 2, "search": i / 4})
               for i in range(1, 101)]
    samples.append(loadtest.Sample(client_ms=5.0, status=429))
    rows = loadtest.summary(samples, seconds=2.0)
    assert rows["errors"] == "1 (status 429)"
    assert rows["client ms p50 / p99"].split() == ["50.0", "/", "99.0"]
    assert rows["server app ms p50 / p99"].split() == ["25.0", "/", "49.5"]


def test_it_spreads_queries_over_the_aspects():
    urls = loadtest.search_urls("http://x", 4 * len(loadtest.QUERIES), "api")
    assert all(u.startswith("http://x/api/search?q=") for u in urls)
    assert {u.rsplit("aspect=", 1)[1] for u in urls} == set(loadtest.ASPECTS)
