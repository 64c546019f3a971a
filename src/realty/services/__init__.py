"""realty.services"""
