"""Chart builders: pure functions from plain records to Altair charts (no Django import)."""
