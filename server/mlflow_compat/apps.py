from django.apps import AppConfig


class MlflowCompatConfig(AppConfig):
    name = "server.mlflow_compat"
    label = "mlflow_compat"
