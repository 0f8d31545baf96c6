"""The load benchmark's recorder: the pooled read row the solve phase's p99 comparison relies on."""

from bench.api_load import ALL_READS, Recorder


def test_reads_are_pooled_into_one_row_and_writes_left_out():
    rec = Recorder()
    for ms in range(1, 101):
        rec.add("GET /v1/demands/{id}", float(ms), 200)
        rec.add("GET /v1/assignments?limit=100", float(ms) + 100, 200)
    rec.add("POST /v1/demands", 10_000.0, 201)

    summary = rec.summary(elapsed_s=1.0)
    pooled = summary["endpoints"][ALL_READS]

    assert pooled["n"] == 200 and pooled["max"] == 200.0  # the POST's 10 s is not a read
    assert pooled["p50"] in (100.0, 101.0) and pooled["p99"] == 198.0
    assert pooled["status"] == {"200": 200}
    assert summary["requests"] == 201  # the pooled row is not counted twice


def test_no_pooled_row_without_reads():
    rec = Recorder()
    rec.add("POST /v1/demands", 5.0, 201)
    assert ALL_READS not in rec.summary(elapsed_s=1.0)["endpoints"]
