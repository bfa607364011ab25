"""The web layer: Flask blueprints that turn engine replies into TwiML, plus audio and pages."""
