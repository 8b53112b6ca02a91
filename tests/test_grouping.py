"""Grouping without chaining weak links, shared by duplicates and rings."""
from simgov.matching.grouping import group_links

T = 0.5


def test_group_links_does_not_chain_weak_links():
    # 0~1 and 1~2 are strong, 0~2 looks unrelated: average linkage keeps 2 out
    links = {(0, 1): 0.95, (1, 2): 0.9}
    assert group_links(4, links, pair_score=lambda i, j: 0.01, threshold=T) == [[0, 1]]
    # when 0~2 is also fairly likely, the three form one group
    assert group_links(4, links, pair_score=lambda i, j: 0.7, threshold=T) == [[0, 1, 2]]
    assert group_links(4, {(0, 1): 0.2}, threshold=T) == []


def test_group_links_cuts_oversized_components():
    # two tight triangles joined by one weak-but-linked bridge, with a tiny max_component
    links = {(0, 1): 0.99, (1, 2): 0.99, (0, 2): 0.99, (3, 4): 0.99, (4, 5): 0.99, (3, 5): 0.99, (2, 3): 0.6}
    assert group_links(6, links, max_component=4, threshold=T) == [[0, 1, 2], [3, 4, 5]]
    assert group_links(6, links, threshold=T) == [[0, 1, 2], [3, 4, 5]]  # average linkage also refuses the bridge
