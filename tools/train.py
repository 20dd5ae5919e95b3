# Copyright (c) mmw2s contributors. All rights reserved.
"""Train a model (weak-to-strong, distillation or plain) from a config.

Same options as mmpretrain's ``tools/train.py``; importing :mod:`mmw2s`
first applies its compatibility patches and registers its components.
"""
import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.utils import load_config
from mmw2s.utils.tool_args import (build_runner, end_process_group,
                                   merge_train_args, parse_tool_args,
                                   train_arg_parser)


def main() -> None:
    args = parse_tool_args(train_arg_parser())
    cfg = merge_train_args(load_config(args.config), args)
    build_runner(cfg).train()
    end_process_group()


if __name__ == '__main__':
    main()
