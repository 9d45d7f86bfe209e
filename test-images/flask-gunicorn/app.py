"""A small Flask application served by gunicorn: a page, and an item rendered as JSON."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/")
def index():
    return "Hello from Flask on gunicorn, in a FROM scratch image.\n"


@app.route("/items/<int:number>")
def item(number):
    return jsonify(item=number, square=number * number)
