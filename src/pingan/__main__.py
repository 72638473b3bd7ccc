from pingan.cli import app

app()
