"""`python -m vanthu_signing.agent`: the token agent without loading the whole `vanthu` CLI."""

from vanthu_signing.agent.cli import agent_app

if __name__ == "__main__":
    agent_app(prog_name="vanthu token-agent")
