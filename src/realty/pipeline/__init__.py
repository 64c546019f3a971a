"""realty.pipeline"""
