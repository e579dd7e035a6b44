import pytest

from tests.recommend.shop import load_shop


@pytest.fixture
def shop(warehouse):
    load_shop(warehouse)
    return warehouse
