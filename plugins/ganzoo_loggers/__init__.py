"""Built-in plugin: the loggers of `ganzoo train --logger NAME`, registered through the same
hook a third-party logger (Weights & Biases, MLflow...) uses. Each logger is an object whose
methods are lifecycle hook implementations, active for the run that asked for it."""

from ganzoo.plugin import LoggerSpec, hookimpl


@hookimpl
def register_loggers(register):
    register(
        LoggerSpec(
            "csv",
            "losses, learning rates, speed and evaluations as RUN/metrics.csv",
            build="ganzoo_loggers.csv_logger:CSVLogger",
        )
    )
    register(
        LoggerSpec(
            "tensorboard",
            "losses, sample grids, evaluations and the configuration as TensorBoard events in RUN/tensorboard/",
            build="ganzoo_loggers.tensorboard_logger:TensorBoardLogger",
            requires=("tensorboard",),
            install="pip install 'ganzoo[tensorboard]'",
        )
    )
