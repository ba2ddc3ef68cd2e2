/**
 * The channels of a rule: webhooks (generic JSON or a chat robot's payload, with a signing
 * secret for DingTalk and Feishu) and e-mail over SMTP. Stored secrets come back masked;
 * left as they are, the server keeps them.
 */
import { DeleteOutlined, MailOutlined, PlusOutlined, SendOutlined } from "@ant-design/icons";
import { Button, Card, Col, Form, Input, InputNumber, Row, Select, Space } from "antd";
import { useTranslation } from "react-i18next";
import { MASK, WEBHOOK_FORMATS } from "../../api/alerts";
import { newEmail, newWebhook, type ChannelValues } from "./formValues";

function WebhookInputs({ index }: { index: number }) {
  const { t } = useTranslation("alerts");
  const form = Form.useFormInstance();
  const format = Form.useWatch(["action", "channels", index, "format"], form) as ChannelValues["format"];
  const signed = format === "dingtalk" || format === "feishu";
  return (
    <>
      <Row gutter={12}>
        <Col span={8}>
          <Form.Item name={[index, "format"]} label={t("channel.format")}>
            <Select data-testid={`channel-${index}-format`}
              options={WEBHOOK_FORMATS.map((value) => ({ value, label: t(`formats.${value}`) }))} />
          </Form.Item>
        </Col>
        <Col span={16}>
          <Form.Item name={[index, "url"]} label={t("channel.url")} extra={t(`formatHelp.${format ?? "generic"}`)}
            rules={[{ required: true, message: t("editor.required", { field: t("channel.url") }) }]}>
            <Input placeholder="https://" data-testid={`channel-${index}-url`} />
          </Form.Item>
        </Col>
      </Row>
      {signed && (
        <Form.Item name={[index, "secret"]} label={t("channel.secret")} extra={t("channel.secretHelp")}>
          <Input.Password autoComplete="new-password" placeholder={format === "dingtalk" ? "SEC…" : undefined} visibilityToggle={false}
            onFocus={(event) => { if (event.target.value === MASK) event.target.select(); }} />
        </Form.Item>
      )}
      <Form.Item name={[index, "headers_text"]} label={t("channel.headers")} extra={t("channel.headersHelp")}>
        <Input.TextArea rows={2} placeholder="Authorization: Bearer …" />
      </Form.Item>
    </>
  );
}

function EmailInputs({ index }: { index: number }) {
  const { t } = useTranslation("alerts");
  const required = (field: string) => [{ required: true, message: t("editor.required", { field }) }];
  return (
    <>
      <Form.Item name={[index, "to"]} label={t("channel.to")} rules={required(t("channel.to"))} extra={t("channel.toHelp")}>
        <Select mode="tags" tokenSeparators={[",", " ", ";"]} open={false} placeholder="ops@example.com" />
      </Form.Item>
      <Row gutter={12}>
        <Col span={12}>
          <Form.Item name={[index, "sender"]} label={t("channel.sender")} rules={required(t("channel.sender"))}>
            <Input placeholder="fustgo@example.com" />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name={[index, "smtp_host"]} label={t("channel.smtpHost")} rules={required(t("channel.smtpHost"))}>
            <Input placeholder="smtp.example.com" />
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={12}>
        <Col span={8}>
          <Form.Item name={[index, "smtp_port"]} label={t("channel.smtpPort")}>
            <InputNumber min={1} max={65535} style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        <Col span={16}>
          <Form.Item name={[index, "security"]} label={t("channel.security")}>
            <Select options={(["none", "starttls", "ssl"] as const).map((value) => ({ value, label: t(`security.${value}`) }))} />
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={12}>
        <Col span={12}>
          <Form.Item name={[index, "username"]} label={t("channel.username")}>
            <Input autoComplete="off" />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name={[index, "password"]} label={t("channel.password")}>
            <Input.Password autoComplete="new-password" visibilityToggle={false} />
          </Form.Item>
        </Col>
      </Row>
    </>
  );
}

export default function ChannelFields() {
  const { t } = useTranslation("alerts");
  const form = Form.useFormInstance();
  return (
    <Form.List name={["action", "channels"]}
      rules={[{ validator: async (_, channels: unknown[]) => { if (!channels?.length) throw new Error(t("editor.oneChannel")); } }]}>
      {(fields, { add, remove }, { errors }) => (
        <>
          {fields.map((field) => {
            const type = form.getFieldValue(["action", "channels", field.name, "type"]) as ChannelValues["type"];
            return (
              <Card key={field.key} size="small" style={{ marginBottom: 12 }} data-testid={`channel-${field.name}`}
                title={type === "email" ? <Space><MailOutlined />{t("channel.email")}</Space> : <Space><SendOutlined />{t("channel.webhook")}</Space>}
                extra={<Button type="text" danger icon={<DeleteOutlined />} aria-label={t("channel.remove")} onClick={() => remove(field.name)} />}>
                <Form.Item name={[field.name, "type"]} hidden><Input /></Form.Item>
                {type === "email" ? <EmailInputs index={field.name} /> : <WebhookInputs index={field.name} />}
              </Card>
            );
          })}
          <Form.ErrorList errors={errors} />
          <Space>
            <Button icon={<PlusOutlined />} onClick={() => add(newWebhook())} data-testid="add-webhook">{t("channel.addWebhook")}</Button>
            <Button icon={<PlusOutlined />} onClick={() => add(newEmail())}>{t("channel.addEmail")}</Button>
          </Space>
        </>
      )}
    </Form.List>
  );
}
