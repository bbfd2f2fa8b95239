"""The `rpa` command (placeholder until the CLI lands)."""

def run_console() -> None:
    print("kakari")
