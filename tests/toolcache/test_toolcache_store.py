"""ToolCache: versions, refs, usage counting, payoff, and its errors, as a user meets them."""

import pytest

from toolcache import AmbiguousRef, Tool, ToolCache, ToolNotFound, tool_id

from ..toolfactory import make_tool


@pytest.fixture
def cache(tmp_path) -> ToolCache:  # type: ignore[no-untyped-def]
    with ToolCache(tmp_path / "cache") as c:
        yield c


def test_put_is_idempotent_by_content(cache: ToolCache) -> None:
    first = cache.put(make_tool(1))
    again = cache.put(make_tool(1))
    assert first.id == again.id and again.version == 1 and len(cache) == 1


def test_id_is_a_content_hash_that_cannot_be_faked() -> None:
    t = make_tool(1)
    assert t.id == tool_id(t.code, t.direct, t.task)
    with pytest.raises(ValueError, match="does not match its code"):
        Tool(**{**t.model_dump(), "id": "0" * 64})


def test_same_code_for_two_tasks_is_two_tools(cache: ToolCache) -> None:
    a, b = cache.put(make_tool(1, task="five")), cache.put(make_tool(1, task="seven"))
    assert a.id != b.id and cache.get("five").task == "five" and cache.get("seven").task == "seven"


def test_new_code_for_a_task_is_a_new_version_and_current(cache: ToolCache) -> None:
    v1, v2 = cache.put(make_tool(1)), cache.put(make_tool(2))
    assert (v1.version, v2.version) == (1, 2)
    assert cache.get("word_sorting").id == v2.id
    assert [t.version for t in cache.history("word_sorting")] == [1, 2]


def test_current_is_the_newest_verified_version(cache: ToolCache) -> None:
    v1, v2 = cache.put(make_tool(1)), cache.put(make_tool(2))
    cache.set_status(v2.id, "quarantined")
    assert cache.get("word_sorting").id == v1.id
    assert cache.current("word_sorting").id == v1.id  # type: ignore[union-attr]
    assert cache.find(task="word_sorting") == [cache.get(v1.id)]
    assert len(cache.find(task="word_sorting", status=None)) == 2


def test_refs_by_id_prefix_name_and_task(cache: ToolCache) -> None:
    t = cache.put(make_tool(1, name="sorter"))
    for ref in (t.id, t.id[:8], "sorter", "word_sorting"):
        assert cache.get(ref).id == t.id


def test_unknown_ref_names_the_candidates(cache: ToolCache) -> None:
    cache.put(make_tool(1))
    with pytest.raises(ToolNotFound, match="word_sorting"):
        cache.get("word_sort")


def test_ambiguous_prefix_lists_the_candidates(cache: ToolCache) -> None:
    seen: dict[str, Tool] = {}
    for i in range(5000):  # find two tools whose ids share 4 hex digits (birthday bound ~300)
        t = make_tool(i, task=f"t{i}")
        if t.id[:4] in seen:
            cache.put(seen[t.id[:4]])
            cache.put(t)
            break
        seen[t.id[:4]] = t
    with pytest.raises(AmbiguousRef) as info:
        cache.get(t.id[:4])
    assert len(info.value.candidates) == 2 and "give more of the id" in str(info.value)


def test_removed_ref_says_it_was_removed(cache: ToolCache) -> None:
    t = cache.put(make_tool(1))
    cache.remove(t.id)
    with pytest.raises(ToolNotFound, match="was removed"):
        cache.get(t.id)
    with pytest.raises(ToolNotFound):
        cache.history("word_sorting")


def test_record_use_counts_modes_failures_tokens_and_cost(cache: ToolCache) -> None:
    t = cache.put(make_tool(1))
    cache.record_use(t.id, ok=True, mode="direct")
    cache.record_use(t.id, ok=False, mode="llm", tokens=500, cost_usd=0.001)
    u = cache.get(t.id).usage
    assert (u.uses, u.direct_uses, u.llm_uses, u.failures, u.tokens) == (2, 1, 1, 1, 500)
    assert u.cost_usd == pytest.approx(0.001) and u.last_used is not None


def test_record_use_rejects_unknown_mode(cache: ToolCache) -> None:
    t = cache.put(make_tool(1))
    with pytest.raises(ValueError, match="direct"):
        cache.record_use(t.id, ok=True, mode="magic")  # type: ignore[arg-type]


def test_payoff_break_even_is_computed() -> None:
    t = make_tool(1, cost=0.02, baseline=0.004)
    assert t.payoff().break_even_uses == 5  # 0.02 / (0.004 - 0 per direct use)
    t.usage.uses, t.usage.cost_usd = 10, 0.01  # now 0.001 per use
    assert t.payoff().break_even_uses == 7  # ceil(0.02 / 0.003)
    assert t.payoff().saved_usd == pytest.approx(10 * 0.004 - 0.02 - 0.01)


def test_failed_uses_save_nothing() -> None:
    t = make_tool(1, cost=0.02, baseline=0.004)
    t.usage.uses, t.usage.failures = 10, 4  # four questions went unanswered: nothing saved on them
    assert t.payoff().saved_usd == pytest.approx(6 * 0.004 - 0.02)


def test_unknown_prices_give_unknown_payoff_not_zero() -> None:
    p = make_tool(1, cost=None).payoff()
    assert p.cost_to_make_usd is None and p.break_even_uses is None and p.saved_usd is None


def test_find_by_text(cache: ToolCache) -> None:
    cache.put(make_tool(1))
    cache.put(make_tool(2, task="dyck_languages", name="close_brackets"))
    assert [t.task for t in cache.find(text="BRACKETS")] == ["dyck_languages"]


def test_stats_add_up(cache: ToolCache) -> None:
    a = cache.put(make_tool(1))
    cache.put(make_tool(2, task="dyck_languages", cost=None))
    cache.record_use(a.id, ok=True, count=3)
    s = cache.stats()
    assert s["tools"] == 2 and s["uses"] == 3 and s["direct_uses"] == 3
    assert s["cost_to_make_usd"] == pytest.approx(0.02) and s["cost_unknown_for"] == 1


def test_persists_across_instances(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with ToolCache(tmp_path) as c:
        t = c.put(make_tool(1))
        c.record_use(t.id, ok=True)
    with ToolCache(tmp_path) as c:
        assert c.get("word_sorting").usage.uses == 1


def test_default_directory_follows_env(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LATM_CACHE_DIR", str(tmp_path / "here"))
    with ToolCache() as c:
        assert c.directory == tmp_path / "here"


def test_values_on_disk_are_json_not_pickle(cache: ToolCache) -> None:
    import json

    t = cache.put(make_tool(1))
    raw = cache._db.get(f"tool:{t.id}")  # type: ignore[attr-defined]
    assert isinstance(raw, str) and json.loads(raw)["name"] == "sort_words"
