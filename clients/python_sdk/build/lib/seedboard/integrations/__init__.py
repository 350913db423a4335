"""Framework integrations: one line logs a framework's training into Seedboard.

Each submodule imports its framework, so import the one you need (nothing here is
imported by ``import seedboard``)::

    from seedboard.integrations.lightning import SeedboardLogger        # seedboard[lightning]
    from seedboard.integrations.transformers import SeedboardCallback   # seedboard[transformers]
    from seedboard.integrations.keras import SeedboardCallback          # seedboard[keras]
    from seedboard.integrations.optuna import SeedboardCallback         # seedboard[optuna]

Every integration fills the run's model, config and seed from what the framework knows
(arguments override them), logs at the framework's logging cadence and step, and ends the
run with the training: ``finished``, or ``failed`` when the training raises.
"""
