"""Packets written the ways other systems write them, for the lenient-parsing tests."""

from __future__ import annotations

import base64
import io
import zipfile

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


def zipped(entry: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(entry, data)
    return buffer.getvalue()


def wrapped_base64(data: bytes, *, line: int = 0) -> str:
    text = base64.b64encode(data).decode()
    if line:
        text = "\n".join(text[i : i + line] for i in range(0, len(text), line))
    return text


PDF = b"%PDF-1.7\n" + "Quyết định ban hành kèm theo".encode() * 200 + b"\n%%EOF\n"


def axis_2019_packet() -> bytes:
    """Shaped like the 2019 packet an axis delivered (S2 xml/2019/5): UUID DocumentId, To without
    OrganizationInCharge, an empty ResponseFor, the axis's own TraceHeader, no Bussiness, an
    XMLDSig-shaped Signature, a PDF zipped and labelled application/zip with a pdf Reference."""
    payload = wrapped_base64(zipped("5c7082fe-1c1d-4f1e-9d8a-5f0c1e2d3b4a.PDF", PDF), line=76)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="{NS}">
  <edXML:edXMLEnvelope xmlns:edXML="{NS}">
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From>
          <edXML:OrganId>01.02.G22</edXML:OrganId>
          <edXML:OrganizationInCharge>Văn phòng Chính phủ</edXML:OrganizationInCharge>
          <edXML:OrganName>Vụ Hành chính</edXML:OrganName>
          <edXML:OrganAdd/>
          <edXML:Email/>
          <edXML:Telephone/>
          <edXML:Fax/>
          <edXML:Website/>
        </edXML:From>
        <edXML:To>
          <edXML:OrganId>000.00.00.H41</edXML:OrganId>
          <edXML:OrganName>UBND Tỉnh Nghệ An</edXML:OrganName>
          <edXML:OrganAdd/>
          <edXML:Email/>
          <edXML:Telephone/>
          <edXML:Fax/>
          <edXML:Website/>
        </edXML:To>
        <edXML:DocumentId>9fbfbad2-6c4b-4b8e-a3a4-2f7b0e9d1c55</edXML:DocumentId>
        <edXML:Code>
          <edXML:CodeNumber>3805</edXML:CodeNumber>
          <edXML:CodeNotation>VPCP-HC</edXML:CodeNotation>
        </edXML:Code>
        <edXML:PromulgationInfo>
          <edXML:Place>Hà Nội</edXML:Place>
          <edXML:PromulgationDate>2019/05/06</edXML:PromulgationDate>
        </edXML:PromulgationInfo>
        <edXML:DocumentType>
          <edXML:Type>1</edXML:Type>
          <edXML:TypeDetail>0</edXML:TypeDetail>
          <edXML:TypeName>Công văn</edXML:TypeName>
        </edXML:DocumentType>
        <edXML:Subject>V/v thử nghiệm gửi nhận văn bản điện tử</edXML:Subject>
        <edXML:Content>V/v thử nghiệm gửi nhận văn bản điện tử</edXML:Content>
        <edXML:SignerInfo>
          <edXML:Competence>KT. BỘ TRƯỞNG</edXML:Competence>
          <edXML:Position>Phó Chủ nhiệm</edXML:Position>
          <edXML:FullName>Nguyễn Văn A</edXML:FullName>
        </edXML:SignerInfo>
        <edXML:OtherInfo>
          <edXML:Priority>0</edXML:Priority>
          <edXML:SphereOfPromulgation/>
          <edXML:TyperNotation/>
          <edXML:PromulgationAmount>1</edXML:PromulgationAmount>
          <edXML:PageAmount>1</edXML:PageAmount>
        </edXML:OtherInfo>
        <edXML:ResponseFor />
        <edXML:SteeringType>0</edXML:SteeringType>
      </edXML:MessageHeader>
      <edXML:TraceHeaderList>
        <edXML:TraceHeader>
          <edXML:OrganId>01.02.G22</edXML:OrganId>
          <edXML:Timestamp>2019/05/06 15:22:10</edXML:Timestamp>
        </edXML:TraceHeader>
        <edXML:TraceHeader>
          <edXML:OrganId>001.00.20.TT2</edXML:OrganId>
          <edXML:Timestamp>2019/05/06 15:22:12</edXML:Timestamp>
        </edXML:TraceHeader>
      </edXML:TraceHeaderList>
      <Signature>
        <SignedInfo>
          <CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315" />
          <SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1" />
          <Reference URI="">
            <DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1" />
            <DigestValue>FwgIqsSYJshUS2+wlOM61L+q7Aw=</DigestValue>
          </Reference>
        </SignedInfo>
        <SignatureValue>GbVb8n9+qFxz466Ag0sb</SignatureValue>
        <KeyInfo><X509Data><X509SubjectName>CN=VNPT-CA</X509SubjectName><X509Certificate>MIIFqTCCBJG</X509Certificate></X509Data></KeyInfo>
      </Signature>
    </edXML:edXMLHeader>
    <edXML:edXMLBody>
      <edXML:edXMLManifest version="1.0">
        <edXML:Reference>
          <edXML:ContentId>cid:5c7082fe</edXML:ContentId>
          <edXML:ContentType>application/pdf</edXML:ContentType>
          <edXML:AttachmentName>3805-VPCP-HC.signed.pdf</edXML:AttachmentName>
        </edXML:Reference>
      </edXML:edXMLManifest>
    </edXML:edXMLBody>
  </edXML:edXMLEnvelope>
  <AttachmentEncoded>
    <Attachment>
      <ContentId>cid:5c7082fe</ContentId>
      <AttachmentName>3805-VPCP-HC.signed.pdf</AttachmentName>
      <ContentType>application/zip</ContentType>
      <edXML:ContentTransferEncoded xmlns:edXML="{NS}">{payload}</edXML:ContentTransferEncoded>
    </Attachment>
  </AttachmentEncoded>
</edXML>
""".encode()


def dotnet_style_packet() -> bytes:
    """Unprefixed (default namespace only), xsi/xsd/xlink attributes, DocumentId last, ToPlaces
    before OtherInfo, `Business` spelling, dd/MM/yyyy dates, no cid: on the Attachment side,
    a raw (not zipped) attachment, an empty DueDate, a DigitalSignature element."""
    raw = wrapped_base64(PDF)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<edXML xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="{NS}">
  <edXMLEnvelope>
    <edXMLHeader>
      <MessageHeader>
        <To><OrganId>000.00.00.H53</OrganId><OrganName>UBND tỉnh Tây Ninh</OrganName></To>
        <To><OrganId>000.00.12.H53</OrganId><OrganName>Sở Tài nguyên và Môi trường</OrganName></To>
        <From><OrganName>Bộ Xây dựng</OrganName><OrganId>000.00.00.G17</OrganId></From>
        <Subject>V/v hướng dẫn thực hiện</Subject>
        <Code><CodeNotation>BXD-KTXD</CodeNotation><CodeNumber>45</CodeNumber></Code>
        <PromulgationInfo><PromulgationDate>30/10/2020</PromulgationDate><Place>Hà Nội</Place></PromulgationInfo>
        <DocumentType><TypeName>Công văn</TypeName><Type>18</Type></DocumentType>
        <DueDate></DueDate>
        <ToPlaces><Place>Như trên</Place></ToPlaces>
        <OtherInfo><Priority>2</Priority><Direction>true</Direction></OtherInfo>
        <SteeringType></SteeringType>
        <DocumentId>000.00.00.G17,2020/10/30,45/BXD-KTXD</DocumentId>
      </MessageHeader>
      <TraceHeaderList id="trace" version="1.0" mustUnderstand="1" actor="http://schemas.xmlsoap.org/soap/actor/next">
        <TraceHeader><OrganId>000.00.00.G17</OrganId><Timestamp>30/10/2020 08:15:00</Timestamp></TraceHeader>
        <Business>
          <BusinessDocType>0</BusinessDocType>
          <BusinessDocReason>Văn bản điện tử mới</BusinessDocReason>
        </Business>
      </TraceHeaderList>
      <DigitalSignature/>
    </edXMLHeader>
    <edXMLBody>
      <edXMLManifest version="1.0">
        <Reference xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="cid:f1" xlink:type="simple">
          <ContentId>cid:f1</ContentId>
          <ContentType>application/pdf</ContentType>
          <AttachmentName>45-BXD-KTXD.pdf</AttachmentName>
        </Reference>
      </edXMLManifest>
    </edXMLBody>
  </edXMLEnvelope>
  <AttachmentEncoded>
    <Attachment>
      <ContentId>f1</ContentId>
      <AttachmentName>45-BXD-KTXD.pdf</AttachmentName>
      <ContentType>application/pdf</ContentType>
      <ContentTransferEncoded>{raw}</ContentTransferEncoded>
    </Attachment>
  </AttachmentEncoded>
</edXML>
""".encode()


def status_packet(code: str, *, prefixed: bool = True) -> bytes:
    p = "edXML:" if prefixed else ""
    decl = f' xmlns:edXML="{NS}"' if prefixed else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="{NS}"><{p}edXMLEnvelope{decl}><{p}edXMLHeader><{p}MessageHeader>
<{p}StatusCode>{code}</{p}StatusCode>
<{p}From><{p}OrganId>000.00.00.H41</{p}OrganId><{p}OrganName>UBND Tỉnh Nghệ An</{p}OrganName></{p}From>
<{p}Timestamp>20/09/2015 11:08:36</{p}Timestamp>
<{p}ResponseFor><{p}DocumentId>000.00.00.G22,2015/09/30,7816/VPCP-TTĐT</{p}DocumentId><{p}OrganId>000.00.00.G22</{p}OrganId><{p}Code>7816/VPCP-TTĐT</{p}Code><{p}PromulgationDate>2015/09/30</{p}PromulgationDate></{p}ResponseFor>
<{p}Description>Đang xử lý</{p}Description>
</{p}MessageHeader></{p}edXMLHeader></{p}edXMLEnvelope></edXML>""".encode()
