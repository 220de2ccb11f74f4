//! Structured e-invoices: an invoice or credit note of [`crate::invoices`] as a Cross
//! Industry Invoice (UN/CEFACT CII D16B), the XML of the Factur-X profile EN 16931 and one
//! of the three formats the French e-invoicing reform accepts (every French business
//! receives e-invoices from September 2026; SMEs must issue them from September 2027).
//!
//! Pure: the stored invoice in, the XML out, with no read and no clock. What it says:
//!
//! - the number (BT-1), type 380 for an invoice and 381 for a credit note (BT-3), the date
//!   of issue (BT-2), and for a credit note the invoice it cancels (BT-25, BT-26);
//! - the billing frame (BT-23) of an invoice already paid: `B2` goods, `S2` services, `M2`
//!   both, and `M2` for invoices issued before sellers said what they sold;
//! - its lines (each what was sold, quantity 1, its net as price, its rate), the VAT by
//!   rate (category `S`, or `E` with its reason at 0 %: the lines' nets and VAT summed),
//!   the totals: net, VAT, total, all of it paid (BT-113) and nothing due (BT-115);
//! - settlement by clearing between partners (payment means 97, UNCL 4461) through the
//!   network, on the day of the payment (the due date, BT-9, as the French rules require of
//!   an invoice already paid), which is also the date of the sale (BT-72: for a marketplace
//!   order, the capture at delivery);
//! - the seller's legal mentions as the invoice copied them (BT-33), when it wrote some;
//! - the parties as the invoice copied them: name, SIREN (scheme 0002) also as their
//!   electronic address (scheme 0225, the French directory's), postal address in France,
//!   and the seller's French VAT number, drawn from its SIREN;
//! - the French notes an invoice must carry (BR-FR-05): no discount for early payment
//!   (`AAB`), the late-payment penalties (`PMD`) and the fixed recovery indemnity (`PMT`),
//!   each said to be without object since the invoice is settled.
//!
//! `scripts/einvoice-check.py` checks the output against the Factur-X XSD, the EN 16931
//! rules and the French rules (BR-FR), as the integration stories do on both backends.
//!
//! [`archive`] puts a period's e-invoices in one ZIP file.
//!
//! Not here: the PDF/A-3 half of a Factur-X file (the XML is an e-invoice on its own), the
//! buyer's VAT number (not required between French businesses), a delivery date other
//! than the payment's, and sending the invoice to a platform (the seller or its accountant
//! uploads it).

use chrono::{DateTime, Datelike, NaiveDate};
use ledger::Amount;

use crate::invoices::{Invoice, Kind, Party, Supply};

/// What the e-invoice needs besides the invoice itself.
pub struct Context<'a> {
    /// The network's name, for the settlement's wording.
    pub network: &'a str,
    /// A credit note's invoice: its number and date of issue (BT-25, BT-26).
    pub cancels: Option<(&'a str, NaiveDate)>,
}

/// The file name an e-invoice is downloaded as.
pub fn file_name(invoice: &Invoice) -> String {
    format!("{}.xml", invoice.number)
}

/// E-invoices in one ZIP archive (deflated), each under its [`file_name`] and dated the
/// day its invoice was issued: what a platform's bulk upload or an accountant takes.
pub fn archive<'a>(
    files: impl IntoIterator<Item = (&'a Invoice, &'a str)>,
) -> zip::result::ZipResult<Vec<u8>> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (invoice, xml) in files {
        let date = invoice.issued_on;
        let stamp = zip::DateTime::from_date_and_time(
            u16::try_from(date.year()).unwrap_or(1980),
            date.month() as u8,
            date.day() as u8,
            0,
            0,
            0,
        )
        .unwrap_or_default();
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(stamp);
        writer.start_file(file_name(invoice), options)?;
        writer.write_all(xml.as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}

/// The French VAT number of a company from its SIREN: `FR`, a two-digit key
/// `(12 + 3 × (SIREN mod 97)) mod 97`, then the SIREN. `None` if `siren` is not nine digits.
pub fn vat_number(siren: &str) -> Option<String> {
    if siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: u64 = siren.parse().ok()?;
    let key = (12 + 3 * (number % 97)) % 97;
    Some(format!("FR{key:02}{siren}"))
}

/// The billing frame (BT-23) of an invoice already paid.
fn billing_frame(supply: Option<Supply>) -> &'static str {
    match supply {
        Some(Supply::Goods) => "B2",
        Some(Supply::Services) => "S2",
        Some(Supply::Mixed) | None => "M2",
    }
}

/// An address as invoices copy it (`street, postcode town`): street, postcode and town, or
/// the whole text as the street when it is not in that shape.
fn address_parts(address: &str) -> (&str, Option<(&str, &str)>) {
    match address.rsplit_once(", ") {
        Some((street, rest)) => match rest.split_once(' ') {
            Some((postcode, town))
                if !postcode.is_empty() && postcode.bytes().all(|b| b.is_ascii_digit()) =>
            {
                (street, Some((postcode, town)))
            }
            _ => (address, None),
        },
        None => (address, None),
    }
}

/// `1234.56`: amounts never negative here (an invoice's figures).
fn decimal(amount: Amount) -> String {
    debug_assert!(amount.minor() >= 0);
    amount.to_plain()
}

/// A rate in basis points as a percentage with two decimals: `5.50`.
fn percent(vat_bp: i64) -> String {
    Amount::from_minor(vat_bp).to_plain()
}

fn day(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

/// Text for XML: `&`, `<`, `>`, `"` escaped, and the characters XML 1.0 cannot carry
/// (controls other than tab, newline and carriage return) dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// An indented XML writer for the few shapes a CII needs; every text is escaped.
struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, tag: &str) {
        self.indent();
        self.out.push_str(&format!("<{tag}>\n"));
        self.depth += 1;
    }

    fn close(&mut self, tag: &str) {
        debug_assert!(self.depth > 0);
        self.depth -= 1;
        self.indent();
        self.out.push_str(&format!("</{tag}>\n"));
    }

    fn leaf(&mut self, tag: &str, text: &str) {
        self.indent();
        self.out
            .push_str(&format!("<{tag}>{}</{tag}>\n", escape(text)));
    }

    /// A leaf with one attribute (`schemeID`, `unitCode`, `currencyID`, `format`).
    fn leaf_with(&mut self, tag: &str, attribute: (&str, &str), text: &str) {
        let (name, value) = attribute;
        self.indent();
        self.out.push_str(&format!(
            "<{tag} {name}=\"{}\">{}</{tag}>\n",
            escape(value),
            escape(text)
        ));
    }

    fn date(&mut self, tag: &str, data_type: &str, date: NaiveDate) {
        self.open(tag);
        self.leaf_with(
            &format!("{data_type}:DateTimeString"),
            ("format", "102"),
            &day(date),
        );
        self.close(tag);
    }

    fn note(&mut self, content: &str, subject: Option<&str>) {
        self.open("ram:IncludedNote");
        self.leaf("ram:Content", content);
        if let Some(code) = subject {
            self.leaf("ram:SubjectCode", code);
        }
        self.close("ram:IncludedNote");
    }

    /// A party: `mentions` are the seller's legal mentions (BT-33), if any.
    fn party(&mut self, tag: &str, party: &Party, mentions: &str, vat: Option<&str>) {
        self.open(tag);
        self.leaf("ram:Name", &party.name);
        if !mentions.is_empty() {
            self.leaf("ram:Description", mentions);
        }
        self.open("ram:SpecifiedLegalOrganization");
        self.leaf_with("ram:ID", ("schemeID", "0002"), &party.siren);
        self.close("ram:SpecifiedLegalOrganization");
        self.open("ram:PostalTradeAddress");
        let (street, place) = address_parts(&party.address);
        if let Some((postcode, _)) = place {
            self.leaf("ram:PostcodeCode", postcode);
        }
        self.leaf("ram:LineOne", street);
        if let Some((_, town)) = place {
            self.leaf("ram:CityName", town);
        }
        self.leaf("ram:CountryID", "FR");
        self.close("ram:PostalTradeAddress");
        self.open("ram:URIUniversalCommunication");
        self.leaf_with("ram:URIID", ("schemeID", "0225"), &party.siren);
        self.close("ram:URIUniversalCommunication");
        if let Some(vat) = vat {
            self.open("ram:SpecifiedTaxRegistration");
            self.leaf_with("ram:ID", ("schemeID", "VA"), vat);
            self.close("ram:SpecifiedTaxRegistration");
        }
        self.close(tag);
    }

    /// The VAT of a line (no amounts) or of one rate of the invoice (its VAT and basis):
    /// category `S` at the rate, or `E` at 0 %.
    fn tax(&mut self, vat_bp: i64, amounts: Option<(Amount, Amount)>) {
        let exempt = vat_bp == 0;
        self.open("ram:ApplicableTradeTax");
        if let Some((vat, _)) = amounts {
            self.leaf("ram:CalculatedAmount", &decimal(vat));
        }
        self.leaf("ram:TypeCode", "VAT");
        if exempt && amounts.is_some() {
            self.leaf("ram:ExemptionReason", EXEMPTION_REASON);
        }
        if let Some((_, basis)) = amounts {
            self.leaf("ram:BasisAmount", &decimal(basis));
        }
        self.leaf("ram:CategoryCode", if exempt { "E" } else { "S" });
        self.leaf("ram:RateApplicablePercent", &percent(vat_bp));
        self.close("ram:ApplicableTradeTax");
    }
}

/// The reason given for VAT at 0 % (BT-120): the seller chose the rate; Troc does not know
/// which exemption applies.
pub const EXEMPTION_REASON: &str = "Exonération de TVA (taux de 0 % indiqué par le vendeur)";

/// The invoice as a CII document (UTF-8, Factur-X EN 16931).
pub fn cii(invoice: &Invoice, context: &Context) -> String {
    debug_assert_eq!(
        invoice.net.minor() + invoice.vat.minor(),
        invoice.total.minor()
    );
    debug_assert!(
        !invoice.lines.is_empty(),
        "an invoice has at least one line"
    );
    debug_assert_eq!(
        invoice.kind == Kind::CreditNote,
        context.cancels.is_some(),
        "a credit note names its invoice, an invoice nothing"
    );
    let paid_on = DateTime::from_timestamp(invoice.paid_at, 0)
        .map(|t| t.date_naive())
        .unwrap_or(invoice.issued_on);
    let paid_text = paid_on.format("%d/%m/%Y").to_string();
    let mut w = Writer {
        out: String::with_capacity(8 * 1024),
        depth: 0,
    };
    w.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    w.out.push_str(
        "<rsm:CrossIndustryInvoice \
         xmlns:rsm=\"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100\" \
         xmlns:ram=\"urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100\" \
         xmlns:qdt=\"urn:un:unece:uncefact:data:standard:QualifiedDataType:100\" \
         xmlns:udt=\"urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100\">\n",
    );
    w.depth = 1;

    w.open("rsm:ExchangedDocumentContext");
    w.open("ram:BusinessProcessSpecifiedDocumentContextParameter");
    w.leaf("ram:ID", billing_frame(invoice.supply));
    w.close("ram:BusinessProcessSpecifiedDocumentContextParameter");
    w.open("ram:GuidelineSpecifiedDocumentContextParameter");
    w.leaf("ram:ID", "urn:cen.eu:en16931:2017");
    w.close("ram:GuidelineSpecifiedDocumentContextParameter");
    w.close("rsm:ExchangedDocumentContext");

    w.open("rsm:ExchangedDocument");
    w.leaf("ram:ID", &invoice.number);
    w.leaf(
        "ram:TypeCode",
        match invoice.kind {
            Kind::Invoice => "380",
            Kind::CreditNote => "381",
        },
    );
    w.date("ram:IssueDateTime", "udt", invoice.issued_on);
    let settled = match (invoice.kind, context.cancels) {
        (Kind::CreditNote, Some((number, _))) => format!(
            "Avoir annulant la facture {number}, à la suite du remboursement du paiement par \
             le réseau d'échange {} le {paid_text} (transaction n° {}).",
            context.network, invoice.tx_id
        ),
        _ => format!(
            "Facture acquittée par compensation via le réseau d'échange {} le {paid_text} \
             (transaction n° {}). Aucune somme n'est due en euros au titre de cette facture, \
             hors la TVA que le vendeur reverse au Trésor.",
            context.network, invoice.tx_id
        ),
    };
    w.note(&settled, None);
    w.note("Pas d'escompte pour paiement anticipé.", Some("AAB"));
    w.note(
        &format!(
            "Pénalités de retard : trois fois le taux d'intérêt légal ; sans objet, la facture \
             étant réglée le {paid_text}."
        ),
        Some("PMD"),
    );
    w.note(
        "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : \
         40 euros ; sans objet, la facture étant réglée.",
        Some("PMT"),
    );
    w.close("rsm:ExchangedDocument");

    w.open("rsm:SupplyChainTradeTransaction");
    for (index, line) in invoice.lines.iter().enumerate() {
        w.open("ram:IncludedSupplyChainTradeLineItem");
        w.open("ram:AssociatedDocumentLineDocument");
        w.leaf("ram:LineID", &(index + 1).to_string());
        w.close("ram:AssociatedDocumentLineDocument");
        w.open("ram:SpecifiedTradeProduct");
        w.leaf("ram:Name", &line.description);
        w.close("ram:SpecifiedTradeProduct");
        w.open("ram:SpecifiedLineTradeAgreement");
        w.open("ram:NetPriceProductTradePrice");
        w.leaf("ram:ChargeAmount", &decimal(line.net));
        w.close("ram:NetPriceProductTradePrice");
        w.close("ram:SpecifiedLineTradeAgreement");
        w.open("ram:SpecifiedLineTradeDelivery");
        w.leaf_with("ram:BilledQuantity", ("unitCode", "C62"), "1");
        w.close("ram:SpecifiedLineTradeDelivery");
        w.open("ram:SpecifiedLineTradeSettlement");
        w.tax(line.vat_bp, None);
        w.open("ram:SpecifiedTradeSettlementLineMonetarySummation");
        w.leaf("ram:LineTotalAmount", &decimal(line.net));
        w.close("ram:SpecifiedTradeSettlementLineMonetarySummation");
        w.close("ram:SpecifiedLineTradeSettlement");
        w.close("ram:IncludedSupplyChainTradeLineItem");
    }

    w.open("ram:ApplicableHeaderTradeAgreement");
    let seller_vat = vat_number(&invoice.seller.siren);
    w.party(
        "ram:SellerTradeParty",
        &invoice.seller,
        &invoice.seller_mentions,
        seller_vat.as_deref(),
    );
    w.party("ram:BuyerTradeParty", &invoice.buyer, "", None);
    w.close("ram:ApplicableHeaderTradeAgreement");
    // The sale's date (BT-72): the day of the payment, which for a marketplace order is the
    // capture at delivery.
    w.open("ram:ApplicableHeaderTradeDelivery");
    w.open("ram:ActualDeliverySupplyChainEvent");
    w.date("ram:OccurrenceDateTime", "udt", paid_on);
    w.close("ram:ActualDeliverySupplyChainEvent");
    w.close("ram:ApplicableHeaderTradeDelivery");

    w.open("ram:ApplicableHeaderTradeSettlement");
    w.leaf("ram:InvoiceCurrencyCode", "EUR");
    w.open("ram:SpecifiedTradeSettlementPaymentMeans");
    w.leaf("ram:TypeCode", "97");
    w.leaf(
        "ram:Information",
        &format!("Compensation via le réseau d'échange {}", context.network),
    );
    w.close("ram:SpecifiedTradeSettlementPaymentMeans");
    for (rate, net, vat) in invoice.vat_by_rate() {
        w.tax(rate, Some((vat, net)));
    }
    w.open("ram:SpecifiedTradePaymentTerms");
    w.leaf(
        "ram:Description",
        &format!("Réglée par compensation le {paid_text}."),
    );
    w.date("ram:DueDateDateTime", "udt", paid_on);
    w.close("ram:SpecifiedTradePaymentTerms");
    w.open("ram:SpecifiedTradeSettlementHeaderMonetarySummation");
    w.leaf("ram:LineTotalAmount", &decimal(invoice.net));
    w.leaf("ram:TaxBasisTotalAmount", &decimal(invoice.net));
    w.leaf_with(
        "ram:TaxTotalAmount",
        ("currencyID", "EUR"),
        &decimal(invoice.vat),
    );
    w.leaf("ram:GrandTotalAmount", &decimal(invoice.total));
    w.leaf("ram:TotalPrepaidAmount", &decimal(invoice.total));
    w.leaf("ram:DuePayableAmount", &decimal(Amount::ZERO));
    w.close("ram:SpecifiedTradeSettlementHeaderMonetarySummation");
    if let Some((number, issued_on)) = context.cancels {
        w.open("ram:InvoiceReferencedDocument");
        w.leaf("ram:IssuerAssignedID", number);
        w.date("ram:FormattedIssueDateTime", "qdt", issued_on);
        w.close("ram:InvoiceReferencedDocument");
    }
    w.close("ram:ApplicableHeaderTradeSettlement");
    w.close("rsm:SupplyChainTradeTransaction");
    debug_assert_eq!(w.depth, 1, "every element opened is closed");
    w.out.push_str("</rsm:CrossIndustryInvoice>\n");
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(id: i64, name: &str, siren: &str, address: &str) -> Party {
        Party {
            member_id: id,
            name: name.into(),
            siren: siren.into(),
            address: address.into(),
        }
    }

    fn invoice(kind: Kind, vat_bp: i64, supply: Option<Supply>) -> Invoice {
        let total = Amount::from_minor(120_000);
        let (net, vat) = crate::invoices::split(total, vat_bp);
        Invoice {
            id: 7,
            kind,
            credits: (kind == Kind::CreditNote).then_some(6),
            number: match kind {
                Kind::Invoice => "FA-2026-00001".into(),
                Kind::CreditNote => "AV-2026-00001".into(),
            },
            year: 2026,
            seq: 1,
            seller: party(
                1,
                "Alpha & Fils <SARL>",
                "732829320",
                "1 rue de la Paix, 75001 Paris",
            ),
            buyer: party(2, "Beta", "542107651", "Lieu-dit sans code"),
            tx_id: 42,
            issued_on: NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
            paid_at: 1_796_428_800, // 2026-12-05 00:00 UTC
            description: "Conseil \"stratégie\"\u{1}".into(),
            supply,
            vat_bp,
            total,
            net,
            vat,
            created_by: "a@example.fr".into(),
            created_at: 0,
            lines: vec![crate::invoices::Line {
                description: "Conseil \"stratégie\"\u{1}".into(),
                vat_bp,
                total,
                net,
                vat,
            }],
            seller_mentions: String::new(),
        }
    }

    const NETWORK: Context<'static> = Context {
        network: "Troc",
        cancels: None,
    };

    #[test]
    fn the_vat_number_is_the_siren_with_its_key() {
        // The key of 732829320 is (12 + 3 × (732829320 mod 97)) mod 97 = 44.
        assert_eq!(vat_number("732829320").as_deref(), Some("FR44732829320"));
        assert_eq!(vat_number("000000000").as_deref(), Some("FR12000000000"));
        assert_eq!(vat_number("73282932"), None);
        assert_eq!(vat_number("7328293200"), None);
        assert_eq!(vat_number("73282932A"), None);
    }

    #[test]
    fn addresses_split_into_street_postcode_and_town() {
        assert_eq!(
            address_parts("1, rue de la Paix, 75001 Paris Cedex 01"),
            ("1, rue de la Paix", Some(("75001", "Paris Cedex 01")))
        );
        assert_eq!(address_parts("Lieu-dit"), ("Lieu-dit", None));
        assert_eq!(address_parts("Rue, Paris"), ("Rue, Paris", None));
    }

    #[test]
    fn an_invoice_says_its_figures_frame_and_parties() {
        let xml = cii(
            &invoice(Kind::Invoice, 2_000, Some(Supply::Services)),
            &NETWORK,
        );
        assert!(xml.contains("<ram:ID>S2</ram:ID>"));
        assert!(xml.contains("<ram:TypeCode>380</ram:TypeCode>"));
        assert!(xml.contains("<udt:DateTimeString format=\"102\">20261206</udt:DateTimeString>"));
        // Due on the day it was paid.
        assert!(xml.contains("<udt:DateTimeString format=\"102\">20261205</udt:DateTimeString>"));
        assert!(xml.contains("<ram:ChargeAmount>1000.00</ram:ChargeAmount>"));
        assert!(xml.contains("<ram:CalculatedAmount>200.00</ram:CalculatedAmount>"));
        assert!(xml.contains("<ram:RateApplicablePercent>20.00</ram:RateApplicablePercent>"));
        assert!(xml.contains("<ram:GrandTotalAmount>1200.00</ram:GrandTotalAmount>"));
        assert!(xml.contains("<ram:TotalPrepaidAmount>1200.00</ram:TotalPrepaidAmount>"));
        assert!(xml.contains("<ram:DuePayableAmount>0.00</ram:DuePayableAmount>"));
        assert!(xml.contains("<ram:ID schemeID=\"VA\">FR44732829320</ram:ID>"));
        assert!(xml.contains("<ram:PostcodeCode>75001</ram:PostcodeCode>"));
        assert!(xml.contains("<ram:LineOne>Lieu-dit sans code</ram:LineOne>"));
        // Escaped, and the control character dropped.
        assert!(xml.contains("<ram:Name>Alpha &amp; Fils &lt;SARL&gt;</ram:Name>"));
        assert!(xml.contains("<ram:Name>Conseil &quot;stratégie&quot;</ram:Name>"));
        for code in ["AAB", "PMD", "PMT"] {
            assert!(xml.contains(&format!("<ram:SubjectCode>{code}</ram:SubjectCode>")));
        }
        assert!(!xml.contains("InvoiceReferencedDocument"));
        assert!(!xml.contains("ExemptionReason"));
        assert!(xml.ends_with("</rsm:CrossIndustryInvoice>\n"));
    }

    #[test]
    fn the_frame_follows_what_was_sold() {
        for (supply, frame) in [
            (Some(Supply::Goods), "B2"),
            (Some(Supply::Services), "S2"),
            (Some(Supply::Mixed), "M2"),
            (None, "M2"),
        ] {
            let xml = cii(&invoice(Kind::Invoice, 2_000, supply), &NETWORK);
            assert!(
                xml.contains(&format!("<ram:ID>{frame}</ram:ID>")),
                "{supply:?}"
            );
        }
    }

    #[test]
    fn at_zero_percent_the_vat_is_exempt_with_a_reason() {
        let xml = cii(&invoice(Kind::Invoice, 0, Some(Supply::Goods)), &NETWORK);
        assert_eq!(
            xml.matches("<ram:CategoryCode>E</ram:CategoryCode>")
                .count(),
            2
        );
        assert_eq!(xml.matches("<ram:ExemptionReason>").count(), 1);
        assert!(xml.contains("<ram:TaxTotalAmount currencyID=\"EUR\">0.00</ram:TaxTotalAmount>"));
        assert!(!xml.contains("<ram:CategoryCode>S</ram:CategoryCode>"));
    }

    #[test]
    fn several_lines_and_their_vat_by_rate() {
        let mut meal = invoice(Kind::Invoice, 1_000, Some(Supply::Mixed));
        let line = |description: &str, vat_bp: i64, total: i64| {
            let (net, vat) = crate::invoices::split(Amount::from_minor(total), vat_bp);
            crate::invoices::Line {
                description: description.into(),
                vat_bp,
                total: Amount::from_minor(total),
                net,
                vat,
            }
        };
        // 120.00: a meal 66.00 at 10 %, wine 24.00 at 20 %, coffee 30.00 at 10 %.
        meal.lines = vec![
            line("Repas", 1_000, 6_600),
            line("Vin", 2_000, 2_400),
            line("Cafés", 1_000, 3_000),
        ];
        meal.total = Amount::from_minor(12_000);
        meal.net = Amount::from_minor(meal.lines.iter().map(|l| l.net.minor()).sum());
        meal.vat = Amount::from_minor(meal.lines.iter().map(|l| l.vat.minor()).sum());
        assert_eq!(
            meal.vat_by_rate(),
            vec![
                (1_000, Amount::from_minor(8_727), Amount::from_minor(873)),
                (2_000, Amount::from_minor(2_000), Amount::from_minor(400)),
            ]
        );
        let xml = cii(&meal, &NETWORK);
        assert_eq!(
            xml.matches("<ram:IncludedSupplyChainTradeLineItem>")
                .count(),
            3
        );
        assert!(xml.contains("<ram:LineID>3</ram:LineID>"));
        assert!(xml.contains("<ram:BasisAmount>87.27</ram:BasisAmount>"));
        assert!(xml.contains("<ram:CalculatedAmount>8.73</ram:CalculatedAmount>"));
        assert!(xml.contains("<ram:BasisAmount>20.00</ram:BasisAmount>"));
        assert!(xml.contains("<ram:CalculatedAmount>4.00</ram:CalculatedAmount>"));
        assert!(xml.contains("<ram:LineTotalAmount>107.27</ram:LineTotalAmount>"));
        assert!(xml.contains("<ram:TaxTotalAmount currencyID=\"EUR\">12.73</ram:TaxTotalAmount>"));
        assert!(xml.contains("<ram:GrandTotalAmount>120.00</ram:GrandTotalAmount>"));
    }

    #[test]
    fn a_credit_note_names_the_invoice_it_cancels() {
        let context = Context {
            network: "Troc",
            cancels: Some((
                "FA-2026-00001",
                NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            )),
        };
        let xml = cii(
            &invoice(Kind::CreditNote, 550, Some(Supply::Mixed)),
            &context,
        );
        assert!(xml.contains("<ram:TypeCode>381</ram:TypeCode>"));
        assert!(xml.contains("<ram:IssuerAssignedID>FA-2026-00001</ram:IssuerAssignedID>"));
        assert!(xml.contains("<qdt:DateTimeString format=\"102\">20261201</qdt:DateTimeString>"));
        assert!(xml.contains("<ram:RateApplicablePercent>5.50</ram:RateApplicablePercent>"));
    }
}
