"""Builds realistic Tool records for tests."""

from toolcache import Entry, HeldOut, Provenance, Tool, UseCase, Verification, VerificationExample


def make_tool(
    n: int = 0,
    task: str = "word_sorting",
    *,
    cost: float | None = 0.02,
    baseline: float | None = 0.004,
    name: str = "sort_words",
) -> Tool:
    code = f"def {name}(words):\n    # variant {n}\n    return ' '.join(sorted(words.split()))\n"
    return Tool(
        name=name,
        task=task,
        description="Sort words alphabetically.",
        entry=Entry(name=name, signature="(words: str) -> str"),
        code=code,
        use_cases=[UseCase(question="Sort: b a", call="ans = sort_words('b a')", answer="a b")],
        verification=Verification(
            examples=[VerificationExample(question="Sort: b a", expected="a b", observed="a b", passed=True)],
            passed=1,
            total=1,
            attempts=1,
            held_out=HeldOut(passed=10, total=10, source="generated", judged_by="direct solver", seed=1),
        ),
        provenance=Provenance(
            maker_model="gpt-4o",
            tokens_in=3000,
            tokens_out=800,
            cost_usd=cost,
            baseline_cost_per_question_usd=baseline,
        ),
    )
