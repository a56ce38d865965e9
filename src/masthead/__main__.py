from masthead.cli import app

app()
