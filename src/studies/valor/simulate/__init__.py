"""The simulated VALOR/OLE study: config validation, disease and treatment model, ADaM builder, calibration."""
