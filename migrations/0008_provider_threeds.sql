-- An acquirer that runs 3-D Secure inside its payment (Bambora) reports the issuer's check of the CAVV
-- (`cavv_result`) with its own 3-D Secure block (stage 'provider'); the back office shows it as stored.
ALTER TABLE threeds_results ADD COLUMN cavv_result TEXT;
