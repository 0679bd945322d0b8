"""The torch side of a newcomer's composite, in its own module beside the pair file."""


def torch_block(p, approximate: str = "none"):
    import torch

    return torch.nn.Sequential(torch.nn.Conv1d(p["channels"], p["channels"], 3), torch.nn.GELU(approximate),
                               torch.nn.Conv1d(p["channels"], p["channels"], 1))
