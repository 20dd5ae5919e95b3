# Copyright (c) mmw2s contributors. All rights reserved.
"""Evaluate a checkpoint with the test settings of a config.

Same options as mmpretrain's ``tools/test.py``; importing :mod:`mmw2s`
first applies its compatibility patches and registers its components.
"""
import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.utils import load_config
from mmw2s.utils.tool_args import (build_runner, end_process_group,
                                   merge_test_args, parse_tool_args,
                                   test_and_write, test_arg_parser)


def main() -> None:
    args = parse_tool_args(test_arg_parser())
    cfg = merge_test_args(load_config(args.config), args)
    test_and_write(build_runner(cfg), args.out, args.out_item)
    end_process_group()


if __name__ == '__main__':
    main()
