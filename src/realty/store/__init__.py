"""realty.store"""
