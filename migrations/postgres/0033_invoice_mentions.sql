-- 0033: the legal mentions a company's invoices carry (docs/web.md, "Invoices"): its legal
-- form and share capital, its registration (RCS and town), a VAT exemption's article
-- (« TVA non applicable, art. 293 B du CGI »)... French invoices must state them, and Troc
-- cannot know them. The owner writes them once; each invoice copies them when it is issued
-- (an invoice is never changed: a later edit does not reach the invoices issued before).
ALTER TABLE members ADD COLUMN invoice_mentions TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN seller_mentions TEXT NOT NULL DEFAULT '';
