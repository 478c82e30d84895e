"""Sales forecasts per rep, territory, district and region from the CRM's history (``forecast`` and
``plan --forecast-horizon``)."""
