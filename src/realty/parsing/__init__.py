"""realty.parsing"""
