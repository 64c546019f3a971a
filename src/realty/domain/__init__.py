"""realty.domain"""
