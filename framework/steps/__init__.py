"""Step packs: the steps that workflows can use, grouped by what they drive."""
