"""A reproducible synthetic corpus of ML papers: realistic words and lengths, seeded."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from bot.domain.models import ListedPaper, Paper, Source

METHODS = (
    "Diffusion Models",
    "Transformers",
    "Mixture-of-Experts",
    "State Space Models",
    "Graph Neural Networks",
    "Vision-Language Models",
    "Large Language Models",
    "Reinforcement Learning",
    "Contrastive Learning",
    "Federated Learning",
    "Neural Radiance Fields",
    "Gaussian Splatting",
    "Low-Rank Adaptation",
    "Knowledge Distillation",
    "Sparse Attention",
    "Retrieval-Augmented Generation",
    "Flow Matching",
    "Reward Models",
    "Direct Preference Optimization",
    "Speculative Decoding",
    "Quantization",
    "Variational Autoencoders",
    "Normalizing Flows",
    "Energy-Based Models",
    "Bayesian Neural Networks",
    "Recurrent Networks",
    "Convolutional Networks",
    "Kolmogorov-Arnold Networks",
    "Neural Operators",
)
TASKS = (
    "Video Generation",
    "Image Segmentation",
    "Code Generation",
    "Question Answering",
    "Machine Translation",
    "Speech Recognition",
    "Protein Folding",
    "Weather Forecasting",
    "Robot Manipulation",
    "Text-to-Image Synthesis",
    "Mathematical Reasoning",
    "Anomaly Detection",
    "Recommendation",
    "Summarization",
    "Object Detection",
    "Pose Estimation",
    "Depth Estimation",
    "Molecule Design",
    "Time Series Forecasting",
    "Instruction Following",
    "Continual Learning",
    "Few-Shot Classification",
    "Domain Adaptation",
    "Tabular Prediction",
    "Visual Grounding",
)
ADJECTIVES = (
    "Efficient",
    "Scalable",
    "Robust",
    "Unified",
    "Self-Supervised",
    "Zero-Shot",
    "Multimodal",
    "Interpretable",
    "Long-Context",
    "Parameter-Efficient",
    "Adaptive",
    "Hierarchical",
    "Causal",
    "Calibrated",
    "Private",
    "Lightweight",
    "Compositional",
    "Generalizable",
    "Faithful",
    "Sparse",
    "Dense",
    "Fast",
    "Provable",
)
TECHNIQUES = (
    "Curriculum Learning",
    "Token Merging",
    "Pruning",
    "Data Augmentation",
    "Synthetic Data",
    "Chain-of-Thought",
    "Test-Time Scaling",
    "Model Merging",
    "Prompt Tuning",
    "Self-Play",
    "Uncertainty Estimation",
    "Memory Replay",
    "Contrastive Decoding",
    "Mixture Routing",
    "Progressive Training",
    "Hard Negative Mining",
    "Weight Sharing",
)
# Real titles are nearly all distinct: every template mixes enough slots (or a model name) for that.
TEMPLATES = (
    "{name}: {adj} {task} with {method}",
    "Towards {adj} {task} via {technique} and {adj2} {method}",
    "{adj} {method} for {adj2} {task} with {technique}",
    "Scaling {adj} {method} for {task}: The Role of {technique}",
    "On the Limits of {adj} {method} in {task}",
    "{name}: {technique} Meets {adj} {method}",
    "Rethinking {technique} for {adj} {method} in {task}",
    "{adj} {method} Are {adj2} {task} Learners",
    "When Does {technique} Help {method}? A Study of {adj} {task}",
    "{name}: Learning to {verb} with {adj} {method}",
)
VERBS = (
    "Reason",
    "Plan",
    "Retrieve",
    "Compress",
    "Align",
    "Generate",
    "Route",
    "Forget",
    "Verify",
    "Explore",
)
SENTENCES = (
    "{method} have shown remarkable progress in {task}, yet they remain {problem}.",
    "Existing approaches rely on {technique}, which {limitation}.",
    "In this paper, we propose {name}, a {adj} framework that combines {method} with {technique}.",
    "Our key insight is that {insight}.",
    "We evaluate {name} on {n} benchmarks spanning {task} and {task2}.",
    "Experiments show that {name} improves accuracy by {pct}% while reducing compute by {x}x.",
    "We further analyse {aspect} and find that {finding}.",
    "Unlike prior work, {name} requires no additional supervision and adds negligible inference cost.",
    "We provide a theoretical analysis showing that {insight} under mild assumptions.",
    "Ablations confirm that each component of {name} contributes to the final performance on {task2}.",
    "Code and models are available at https://github.com/{org}/{repo}.",
)
PROBLEMS = ("expensive to train", "brittle under distribution shift", "hard to interpret", "data hungry")
LIMITATIONS = ("scales poorly with sequence length", "ignores long-range structure", "needs labelled data")
INSIGHTS = (
    "most tokens contribute little to the final prediction",
    "errors concentrate in a small set of hard examples",
    "the optimal schedule depends on model size",
)
ASPECTS = ("scaling behaviour", "failure modes", "the role of data quality", "training dynamics")
FINDINGS = ("gains persist at larger scales", "simple baselines are surprisingly strong", "diversity matters")
FIRST = ("Wei", "Maria", "Ahmed", "Yuki", "Olga", "James", "Priya", "Chen", "Lucas", "Fatima", "Noah", "Sara")
LAST = ("Zhang", "Garcia", "Kim", "Müller", "Rossi", "Nguyen", "Smith", "Ivanova", "Sato", "Okafor", "Silva")


def _name(rng: random.Random) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(rng.choice(letters) for _ in range(rng.randint(3, 6))) + rng.choice(
        ("", "-2", "Net", "GPT", "++")
    )


def generate(
    n: int,
    *,
    seed: int = 7,
    start: date = date(2024, 1, 1),
    per_day: int = 50,
    first: int = 0,
    source: str = Source.SYNTHETIC,
) -> Iterator[ListedPaper]:
    """``n`` papers with unique arXiv ids, listed ``per_day`` to a day from ``start`` by ``source``.

    ``first`` skips ahead in the id sequence: ``generate(m, first=n)`` makes m papers none of which
    is among ``generate(n)``'s (a new batch to ingest on top of a stored corpus)."""
    rng = random.Random(seed)
    for index in range(first, first + n):
        name = _name(rng)
        fill = {
            "name": name,
            "adj": rng.choice(ADJECTIVES),
            "adj2": rng.choice(ADJECTIVES),
            "task": rng.choice(TASKS),
            "task2": rng.choice(TASKS),
            "method": rng.choice(METHODS),
            "technique": rng.choice(TECHNIQUES),
            "verb": rng.choice(VERBS),
            "problem": rng.choice(PROBLEMS),
            "limitation": rng.choice(LIMITATIONS),
            "insight": rng.choice(INSIGHTS),
            "aspect": rng.choice(ASPECTS),
            "finding": rng.choice(FINDINGS),
            "n": rng.randint(3, 12),
            "pct": rng.randint(2, 30),
            "x": rng.randint(2, 9),
            "org": name.lower(),
            "repo": rng.choice(METHODS).split()[0].lower(),
        }
        title = rng.choice(TEMPLATES).format(**fill)
        abstract = " ".join(s.format(**fill) for s in SENTENCES if rng.random() < 0.9)
        day = start + timedelta(days=index // per_day)
        paper = Paper(
            title=title,
            abstract=abstract,
            source=source,
            arxiv_id=arxiv_id(index),
            authors=tuple(f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 8))),
            published=day - timedelta(days=1),
            first_listed=day,
            upvotes=rng.randint(0, 200),
        )
        yield ListedPaper(paper, day, index % per_day + 1)


def arxiv_id(index: int) -> str:
    """The arXiv id ``generate`` gives its ``index``-th paper (without generating it)."""
    month = (index // 99_999) % 12 + 1
    return f"{24 + index // 1_199_988:02d}{month:02d}.{index % 99_999 + 1:05d}"
