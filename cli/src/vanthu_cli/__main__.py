"""`python -m vanthu_cli` = `vanthu`."""

from vanthu_cli.main import main

if __name__ == "__main__":
    main()
