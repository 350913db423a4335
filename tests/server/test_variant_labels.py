"""Variant labels (server/tracking/labels.py): the keys that differ among the variants shown."""

from __future__ import annotations

from server.tracking.labels import distinguishing_keys, variant_labels

DEMO = {
    "optimizer": {"name": "sgd", "momentum": 0.9, "weight_decay": 5e-4},
    "batch_size": 128,
    "epochs": 30,
    "data": {"augment": "crop+flip"},
}


def test_labels_name_the_model_and_only_the_config_values_that_differ() -> None:
    labels = variant_labels(
        [
            ("a" * 32, "resnet18", {"lr": 0.1, "optimizer": {"name": "sgd", "momentum": 0.9}}),
            ("b" * 32, "resnet18", {"lr": 0.01, "optimizer": {"name": "sgd", "momentum": 0.9}}),
            ("c" * 32, "vit", {"lr": 0.1}),
        ]
    )
    assert labels == {"a" * 32: "resnet18 (lr=0.1)", "b" * 32: "resnet18 (lr=0.01)", "c" * 32: "vit"}


def test_a_variant_with_other_keys_keeps_the_learning_rate_in_every_label_and_no_hash() -> None:
    # The Quickstart's one-seed variant logged into the demo project: its config lacks four
    # keys and has lr=0.1 like one demo variant. Sorted keys would pick batch_size, data.*
    # and fall back to a hash; the keys that separate the most variants come first instead.
    variants = [(f"{i:032x}", "resnet18", {"lr": lr, **DEMO}) for i, lr in enumerate((0.01, 0.03, 0.1))]
    variants.append(("f" * 32, "resnet18", {"lr": 0.1, "optimizer": {"name": "sgd", "momentum": 0.9}}))

    labels = variant_labels(variants)

    assert labels[f"{0:032x}"] == "resnet18 (lr=0.01, batch_size=128)"
    assert labels[f"{2:032x}"] == "resnet18 (lr=0.1, batch_size=128)"
    assert labels["f" * 32] == "resnet18 (lr=0.1)"  # the key it lacks is left out
    assert len(set(labels.values())) == 4
    # Among the demo's variants alone, the learning rate is the one key shown.
    assert variant_labels(variants[:3])[f"{1:032x}"] == "resnet18 (lr=0.03)"


def test_more_than_three_differing_keys_are_named_rather_than_hashed() -> None:
    configs = {str(i): {"a": i % 2, "b": i // 2 % 2, "c": i // 4 % 2, "d": i // 8 % 2} for i in range(16)}
    assert sorted(distinguishing_keys(configs)) == ["a", "b", "c", "d"]
    labels = variant_labels([(f"{i:032x}", "m", config) for i, config in enumerate(configs.values())])
    assert len(set(labels.values())) == 16
    assert not any("00000000" in label for label in labels.values())  # no fingerprint's start


def test_labels_fall_back_to_the_fingerprint_when_configs_tell_nothing_apart() -> None:
    labels = variant_labels([("a" * 32, "m", {}), ("b" * 32, "m", {"x": {}})])
    assert labels == {"a" * 32: "m (aaaaaaaa)", "b" * 32: "m (x={})"}


def test_a_variant_listed_once_per_task_keeps_its_plain_label() -> None:
    labels = variant_labels([("a" * 32, "resnet18", {"lr": 0.1}), ("a" * 32, "resnet18", {"lr": 0.1})])
    assert labels == {"a" * 32: "resnet18"}
