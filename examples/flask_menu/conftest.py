"""The phone fixture (the ``ivr_phone`` pytest plugin, installed with ivr) calls ``phone_app``
in-process: here, a fresh app from this example's factory for every test."""
import pytest

from examples.flask_menu.app import create_app


@pytest.fixture
def phone_app():
    return create_app()
